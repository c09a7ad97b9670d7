// Package deploy holds no code: its tests check the files an operator
// deploys Mentorship with, the compose file at the top of the repository
// and the Prometheus alerting rules in prometheus/, so that a broken one
// fails the build.
package deploy
