package projections

// FastDecode exposes the fast decoder to the tests.
var FastDecode = fastDecode
