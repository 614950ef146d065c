// The matching semantics as data: one table of (routes, request, expected outcome), run against
// the compiled trie and the linear Django-style reference alike (urls-shared.test.ts), so the
// two implementations are held to the same rules.
export interface MatchCase {
  title: string
  routes: (string | [string, string[]])[] // route, or [route, methods]
  method?: string
  path: string
  /** Index of the route that must win and its params; 'notFound'; or the 405 allowed list. */
  expect: { route: number; params?: Record<string, unknown> } | 'notFound' | { allowed: string[] }
}

export const MATCH_CASES: MatchCase[] = [
  { title: 'static route', routes: ['about/'], path: '/about/', expect: { route: 0, params: {} } },
  { title: 'root route', routes: ['', 'a/'], path: '/', expect: { route: 0 } },
  { title: 'trailing slash is exact', routes: ['about/'], path: '/about', expect: 'notFound' },
  { title: 'no slash route', routes: ['about'], path: '/about/', expect: 'notFound' },
  { title: 'int converts', routes: ['i/<int:id>/'], path: '/i/007/', expect: { route: 0, params: { id: 7 } } },
  { title: 'int refuses letters', routes: ['i/<int:id>/'], path: '/i/7a/', expect: 'notFound' },
  { title: 'str default converter', routes: ['s/<name>/'], path: '/s/a b/', expect: { route: 0, params: { name: 'a b' } } },
  { title: 'str stops at slash', routes: ['s/<str:x>/'], path: '/s/a/b/', expect: 'notFound' },
  { title: 'slug charset', routes: ['g/<slug:s>/'], path: '/g/a_b-C1/', expect: { route: 0, params: { s: 'a_b-C1' } } },
  { title: 'slug refuses dot', routes: ['g/<slug:s>/'], path: '/g/a.b/', expect: 'notFound' },
  { title: 'uuid lower case', routes: ['u/<uuid:u>/'], path: '/u/123e4567-e89b-12d3-a456-426614174000/', expect: { route: 0, params: { u: '123e4567-e89b-12d3-a456-426614174000' } } },
  { title: 'uuid upper case refused', routes: ['u/<uuid:u>/'], path: '/u/123E4567-E89B-12D3-A456-426614174000/', expect: 'notFound' },
  { title: 'path spans slashes', routes: ['f/<path:p>'], path: '/f/a/b/c', expect: { route: 0, params: { p: 'a/b/c' } } },
  { title: 'path with a suffix backtracks', routes: ['f/<path:p>/raw'], path: '/f/a/b/raw', expect: { route: 0, params: { p: 'a/b' } } },
  { title: 'path needs a character', routes: ['f/<path:p>'], path: '/f/', expect: 'notFound' },
  { title: 'earlier converter beats later static', routes: ['<slug:s>/', 'about/'], path: '/about/', expect: { route: 0, params: { s: 'about' } } },
  { title: 'earlier static beats later converter', routes: ['about/', '<slug:s>/'], path: '/about/', expect: { route: 0 } },
  { title: 'static route beside a converter that refuses its text', routes: ['x/<int:b>/', 'x/latest/'], path: '/x/latest/', expect: { route: 1, params: {} } },
  { title: 'later static route when a converter matches the text but refuses the value', routes: ['x/<int:b>/', 'x/123456789012345678901/'], path: '/x/123456789012345678901/', expect: { route: 1, params: {} } },
  { title: 'static route under a catch-all tail', routes: ['f/<path:p>', 'f/a/'], path: '/f/a/', expect: { route: 0, params: { p: 'a/' } } },
  { title: 'first converter in order', routes: ['x/<str:a>/', 'x/<int:b>/'], path: '/x/5/', expect: { route: 0, params: { a: '5' } } },
  { title: 'int before str', routes: ['x/<int:b>/', 'x/<str:a>/'], path: '/x/5/', expect: { route: 0, params: { b: 5 } } },
  { title: 'falls through to str', routes: ['x/<int:b>/', 'x/<str:a>/'], path: '/x/five/', expect: { route: 1, params: { a: 'five' } } },
  { title: 'int overflow falls through', routes: ['x/<int:b>/', 'x/<str:a>/'], path: '/x/123456789012345678901/', expect: { route: 1 } },
  { title: 'two converters in a segment', routes: ['d/<int:y>-<int:m>/'], path: '/d/2024-05/', expect: { route: 0, params: { y: 2024, m: 5 } } },
  { title: 'literal around a converter', routes: ['page<int:n>.html'], path: '/page3.html', expect: { route: 0, params: { n: 3 } } },
  { title: 'regex chars are literal', routes: ['a.b/'], path: '/axb/', expect: 'notFound' },
  { title: 'deeper catch-all after static miss', routes: ['a/b/c/', 'a/<path:p>'], path: '/a/b/d/', expect: { route: 1, params: { p: 'b/d/' } } },
  { title: 'empty segment', routes: ['a/<str:x>/b/'], path: '/a//b/', expect: 'notFound' },
  { title: 'method allowed', routes: [['m/', ['GET']]], method: 'GET', path: '/m/', expect: { route: 0 } },
  { title: 'HEAD implied by GET', routes: [['m/', ['GET']]], method: 'HEAD', path: '/m/', expect: { route: 0 } },
  { title: '405 lists methods', routes: [['m/', ['GET']], ['m/', ['POST']]], method: 'PUT', path: '/m/', expect: { allowed: ['GET', 'HEAD', 'POST'] } },
  { title: 'second route allows the method', routes: [['m/', ['GET']], ['m/', ['POST']]], method: 'POST', path: '/m/', expect: { route: 1 } },
  { title: 'unrestricted later route wins over 405', routes: [['m/', ['GET']], '<str:x>/'], method: 'POST', path: '/m/', expect: { route: 1 } },
  { title: '404 beats 405 when nothing matches the path', routes: [['m/', ['GET']]], method: 'POST', path: '/n/', expect: 'notFound' },
]
