// Drives the server with Apollo Client 4 and graphql-ws as a React app
// would, and prints one JSON object of what it saw. Run by the Go test
// TestRealClientsUpdateTheirCaches with the server's URL and tokens in the
// environment.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql, CombinedGraphQLErrors } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const url = process.env.API_URL;
const tokens = { staff: process.env.STAFF, mentee: process.env.MENTEE, mentor: process.env.MENTOR };
const mentorId = process.env.MENTOR_ID;

function client(token) {
  const http = new HttpLink({ uri: url, headers: { Authorization: `Bearer ${token}` } });
  const ws = createClient({
    url: url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${token}` },
  });
  const link = ApolloLink.split(
    ({ query }) => {
      const d = getMainDefinition(query);
      return d.kind === "OperationDefinition" && d.operation === "subscription";
    },
    new GraphQLWsLink(ws),
    http,
  );
  // No type policies: the cache keys objects by __typename and id only.
  return { apollo: new ApolloClient({ link, cache: new InMemoryCache() }), ws };
}

// until resolves with the first value of a watched query that passes ok.
function until(observable, ok, what, ms = 5000) {
  return new Promise((resolve, reject) => {
    let sub = null, done = false;
    // Unsubscribed on the next turn: a cached result arrives inside
    // subscribe itself, before the subscription exists.
    const finish = (f) => { done = true; clearTimeout(timer); f(); setTimeout(() => sub && sub.unsubscribe(), 0); };
    const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${what}`))), ms);
    sub = observable.subscribe({
      next: (r) => { if (!done && r.data && ok(r.data)) finish(() => resolve(r.data)); },
      error: (e) => { if (!done) finish(() => reject(e)); },
    });
  });
}

const out = {};
const staff = client(tokens.staff), mentee = client(tokens.mentee), mentor = client(tokens.mentor);
try {
  // A dashboard push updates the watched dashboard query.
  const dash = staff.apollo.watchQuery({ query: gql`query Dashboard { dashboard { id pending active } }` });
  const first = await until(dash, (d) => d.dashboard, "the dashboard");
  out.dashboardBefore = first.dashboard;
  const pushes = staff.apollo.subscribe({ query: gql`subscription DashboardPushes { dashboard { id pending active } }` }).subscribe({});
  await new Promise((r) => setTimeout(r, 300)); // let the subscription start
  const req = await mentee.apollo.mutate({
    mutation: gql`mutation Request($mentor: ID!) { requestMatch(input: { mentorId: $mentor }) { match { id status } userErrors { code } } }`,
    variables: { mentor: mentorId },
  });
  const matchId = req.data.requestMatch.match.id;
  out.requested = req.data.requestMatch.match.status;
  const t0 = Date.now();
  const after = await until(dash, (d) => d.dashboard.pending === first.dashboard.pending + 1, "the pushed dashboard");
  out.dashboardAfter = after.dashboard;
  out.dashboardMs = Date.now() - t0;
  pushes.unsubscribe();

  // A matchEvents push updates the cached Match the staff page shows.
  const match = staff.apollo.watchQuery({ query: gql`query Match($id: ID!) { match(id: $id) { id status position } }`, variables: { id: matchId } });
  const pending = await until(match, (d) => d.match, "the match");
  out.matchBefore = pending.match.status;
  const events = staff.apollo.subscribe({
    query: gql`subscription MatchEvents { matchEvents { id position type matchId status match { id status position } } }`,
  }).subscribe({ next: (r) => { (out.matchEvents ??= []).push(r); }, error: (e) => { out.matchEventsError = String(e); } });
  await new Promise((r) => setTimeout(r, 300));
  const accepted = await mentor.apollo.mutate({
    mutation: gql`mutation Accept($id: ID!) { acceptMatch(input: { matchId: $id }) { userErrors { code } } }`,
    variables: { id: matchId },
  });
  out.acceptErrors = accepted.data.acceptMatch.userErrors;
  const t1 = Date.now();
  const active = await until(match, (d) => d.match.status === "ACTIVE", "the pushed match");
  out.matchAfter = active.match.status;
  out.matchMs = Date.now() - t1;
  events.unsubscribe();

  // A bad token: a GraphQL error with its code, not a network error.
  const bad = client("not-a-token");
  try {
    await bad.apollo.query({ query: gql`query Viewer { viewer { id } }` });
    out.badToken = "no error";
  } catch (e) {
    out.badToken = CombinedGraphQLErrors.is(e) ? { code: e.errors[0]?.extensions?.code, message: e.errors[0]?.message } : `not a GraphQL error: ${e}`;
  }
  bad.ws.dispose();
} catch (e) {
  out.error = String(e && e.stack || e);
} finally {
  for (const c of [staff, mentee, mentor]) c.ws.dispose();
  console.log(JSON.stringify(out));
  process.exit(0);
}
