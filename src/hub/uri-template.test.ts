import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { compileUriTemplate, MAX_TEMPLATE_LENGTH, type UriTemplate } from './uri-template.ts'

function compile(template: string): UriTemplate {
  const compiled = compileUriTemplate(template)
  if (!compiled.ok) assert.fail(`${template}: ${compiled.message}`)
  return compiled.value
}

/** Why `template` does not compile; fails the test when it does. */
function refusal(template: string): string {
  const compiled = compileUriTemplate(template)
  if (compiled.ok) assert.fail(`${JSON.stringify(template)} should be invalid`)
  return compiled.message
}

/**
 * Reads a table of rows `template  string  // comment`, columns two or more spaces apart, under
 * headings: returns the rows by heading.
 */
function table(text: string): Map<string, [string, string][]> {
  const sections = new Map<string, [string, string][]>()
  let rows: [string, string][] = []
  for (const line of text.trim().split('\n')) {
    const [template, uri] = line.split(/ {2,}/)
    if (uri !== undefined) rows.push([template as string, uri])
    else sections.set(line, [])
    rows = sections.get(line) ?? rows
  }
  return sections
}

// [RFC 6570 §3.2] The example tables, template then expansion, with the variables: count := ("one",
// "two", "three"); dom := ("example", "com"); dub := "me/too"; hello := "Hello World!"; half :=
// "50%"; var := "value"; who := "fred"; base := "http://example.com/home/"; path := "/foo/bar";
// list := ("red", "green", "blue"); keys := [("semi",";"),("dot","."),("comma",",")]; v := "6";
// x := "1024"; y := "768"; empty := ""; empty_keys := []; undef := null.
const RFC_EXAMPLES = table(`
§3.2.1 variable expansion
{count}             one,two,three
{count*}            one,two,three
{/count}            /one,two,three
{/count*}           /one/two/three
{;count}            ;count=one,two,three
{;count*}           ;count=one;count=two;count=three
{?count}            ?count=one,two,three
{?count*}           ?count=one&count=two&count=three
{&count*}           &count=one&count=two&count=three
§3.2.2 simple string expansion
{var}               value
{hello}             Hello%20World%21
{half}              50%25
O{empty}X           OX
O{undef}X           OX
{x,y}               1024,768
{x,hello,y}         1024,Hello%20World%21,768
?{x,empty}          ?1024,
?{x,undef}          ?1024
?{undef,y}          ?768
{var:3}             val
{var:30}            value
{list}              red,green,blue
{list*}             red,green,blue
{keys}              semi,%3B,dot,.,comma,%2C
{keys*}             semi=%3B,dot=.,comma=%2C
§3.2.3 reserved expansion
{+var}              value
{+hello}            Hello%20World!
{+half}             50%25
{base}index         http%3A%2F%2Fexample.com%2Fhome%2Findex
{+base}index        http://example.com/home/index
O{+empty}X          OX
O{+undef}X          OX
{+path}/here        /foo/bar/here
here?ref={+path}    here?ref=/foo/bar
up{+path}{var}/here  up/foo/barvalue/here
{+x,hello,y}        1024,Hello%20World!,768
{+path,x}/here      /foo/bar,1024/here
{+path:6}/here      /foo/b/here
{+list}             red,green,blue
{+list*}            red,green,blue
{+keys}             semi,;,dot,.,comma,,
{+keys*}            semi=;,dot=.,comma=,
§3.2.4 fragment expansion
{#var}              #value
{#hello}            #Hello%20World!
{#half}             #50%25
foo{#empty}         foo#
foo{#undef}         foo
{#x,hello,y}        #1024,Hello%20World!,768
{#path,x}/here      #/foo/bar,1024/here
{#path:6}/here      #/foo/b/here
{#list}             #red,green,blue
{#list*}            #red,green,blue
{#keys}             #semi,;,dot,.,comma,,
{#keys*}            #semi=;,dot=.,comma=,
§3.2.5 label expansion with dot-prefix
{.who}              .fred
{.who,who}          .fred.fred
{.half,who}         .50%25.fred
www{.dom*}          www.example.com
X{.var}             X.value
X{.empty}           X.
X{.undef}           X
X{.var:3}           X.val
X{.list}            X.red,green,blue
X{.list*}           X.red.green.blue
X{.keys}            X.semi,%3B,dot,.,comma,%2C
X{.keys*}           X.semi=%3B.dot=..comma=%2C
X{.empty_keys}      X
X{.empty_keys*}     X
§3.2.6 path segment expansion
{/who}              /fred
{/who,who}          /fred/fred
{/half,who}         /50%25/fred
{/who,dub}          /fred/me%2Ftoo
{/var}              /value
{/var,empty}        /value/
{/var,undef}        /value
{/var,x}/here       /value/1024/here
{/var:1,var}        /v/value
{/list}             /red,green,blue
{/list*}            /red/green/blue
{/list*,path:4}     /red/green/blue/%2Ffoo
{/keys}             /semi,%3B,dot,.,comma,%2C
{/keys*}            /semi=%3B/dot=./comma=%2C
§3.2.7 path-style parameter expansion
{;who}              ;who=fred
{;half}             ;half=50%25
{;empty}            ;empty
{;v,empty,who}      ;v=6;empty;who=fred
{;v,bar,who}        ;v=6;who=fred
{;x,y}              ;x=1024;y=768
{;x,y,empty}        ;x=1024;y=768;empty
{;x,y,undef}        ;x=1024;y=768
{;hello:5}          ;hello=Hello
{;list}             ;list=red,green,blue
{;list*}            ;list=red;list=green;list=blue
{;keys}             ;keys=semi,%3B,dot,.,comma,%2C
{;keys*}            ;semi=%3B;dot=.;comma=%2C
§3.2.8 form-style query expansion
{?who}              ?who=fred
{?half}             ?half=50%25
{?x,y}              ?x=1024&y=768
{?x,y,empty}        ?x=1024&y=768&empty=
{?x,y,undef}        ?x=1024&y=768
{?var:3}            ?var=val
{?list}             ?list=red,green,blue
{?list*}            ?list=red&list=green&list=blue
{?keys}             ?keys=semi,%3B,dot,.,comma,%2C
{?keys*}            ?semi=%3B&dot=.&comma=%2C
§3.2.9 form-style query continuation
{&who}              &who=fred
{&half}             &half=50%25
?fixed=yes{&x}      ?fixed=yes&x=1024
{&x,y,empty}        &x=1024&y=768&empty=
{&var:3}            &var=val
{&list}             &list=red,green,blue
{&list*}            &list=red&list=green&list=blue
{&keys}             &keys=semi,%3B,dot,.,comma,%2C
{&keys*}            &semi=%3B&dot=.&comma=%2C
`)

// Strings close to an expansion that no values of the variables can produce.
const NEAR_MISSES = table(`
simple expansion
{var}               val/ue                      // "/" would be encoded as %2F
{var}               Hello World                 // so would a space
{var}               50%                         // a lone "%" is no percent-encoding
{var}               50%2
{var}               a?b
{var}               a=b                         // "=" appears only in an exploded associative array
{var:3}             valu
{var:1}             %C3%A9%C3%A9                // two characters, é and é
O{var}X             OvalueY
reserved expansion
{+var}              a b
{+var}              50%zz
{+path}/here        /foo/bar/there
{+path:6}/here      /foo/ba/here
fragment expansion
{#var}              value
{#var}              #val ue
foo{#var}           bar#value
label expansion
{.who}              fred
{.who}              .fr/ed
X{.var:3}           X.valu
path segment expansion
{/who}              fred
{/who}              /fred/barney                // two segments need an exploded list or two variables
{/who,dub}          /fred/me/too
{/var}/here         /value/there
path-style parameters
{;who}              ;whom=fred
{;who}              ;who=fr;ed
{;x,y}              ;y=768;x=1024               // out of order
form-style query
{?who}              ?who                        // an empty value still gives "?who="
{?who}              ?whom=fred
{?who}              ?who=fred&x=1
{?x,y}              ?y=768&x=1024
{?who}              &who=fred
form-style continuation
{&who}              ?who=fred
?fixed=yes{&x}      ?fixed=yes?x=1024
`)

describe('compileUriTemplate', () => {
  for (const [section, rows] of RFC_EXAMPLES) {
    it(`matches every expansion of RFC 6570 ${section}`, () => {
      for (const [template, uri] of rows) {
        assert.ok(compile(template).matches(uri), `${template} should match ${uri}`)
      }
    })
  }

  for (const [operator, rows] of NEAR_MISSES) {
    it(`rejects near-misses of ${operator}`, () => {
      for (const [template, uri] of rows) {
        assert.equal(compile(template).matches(uri), false, `${template} should not match ${uri}`)
      }
    })
  }

  it('matches the Mercure book example, with an empty id as the RFC expands it', () => {
    const books = compile('https://example.com/books/{id}')
    assert.ok(books.matches('https://example.com/books/1'))
    assert.ok(books.matches('https://example.com/books/the-hobbit'))
    // [RFC 6570 §3.2.2] `O{empty}X` expands to `OX`: an empty or undefined id leaves the slash.
    assert.ok(books.matches('https://example.com/books/'))
    assert.equal(books.matches('https://example.com/books/1/chapters'), false)
    assert.equal(books.matches('https://example.com/books'), false)
    assert.equal(books.matches('https://example.org/books/1'), false)
  })

  it('matches the per-user pattern, with and without the topic', () => {
    const user = compile('https://example.com/users/foo/{?topic}')
    const book = 'https://example.com/books/1'
    assert.ok(user.matches('https://example.com/users/foo/'))
    assert.ok(user.matches(`https://example.com/users/foo/?topic=${encodeURIComponent(book)}`))
    assert.equal(user.matches(`https://example.com/users/foo/?topic=${book}`), false)
    assert.equal(
      user.matches(`https://example.com/users/bar/?topic=${encodeURIComponent(book)}`),
      false,
    )
    assert.equal(user.matches('https://example.com/users/foo/?topic=x&other=y'), false)
    assert.equal(user.matches('https://example.com/users/foo/?topic'), false)
  })

  it('matches IRI topics: raw non-ASCII in values, and literals raw or percent-encoded', () => {
    assert.ok(compile('https://example.com/books/{id}').matches('https://example.com/books/café'))
    const literal = compile('https://example.com/café/{id}')
    assert.ok(literal.matches('https://example.com/café/1'))
    assert.ok(literal.matches('https://example.com/caf%C3%A9/1'))
    assert.ok(literal.matches('https://example.com/caf%c3%a9/1'))
    assert.equal(literal.matches('https://example.com/cafe/1'), false)
    // A private-use character is an IRI character only where reserved characters are allowed.
    assert.equal(compile('{x}').matches('\ue000'), false)
    assert.ok(compile('{+x}').matches('\ue000'))
    assert.equal(compile('{x}').matches('\u0085'), false)
  })

  it('counts a prefix in characters, a percent-encoded UTF-8 sequence being one', () => {
    const prefix = compile('{x:2}')
    assert.ok(prefix.matches('%C3%A9%F0%9F%98%80'))
    assert.ok(prefix.matches('a%20'))
    assert.equal(prefix.matches('a%20b'), false)
  })

  it('matches a variable used twice at each place independently', () => {
    // Requiring equal values would take a back-reference; no regular language can.
    assert.ok(compile('{x}/{x}').matches('a/b'))
  })

  it('refuses invalid templates, saying why', () => {
    const invalid: Record<string, RegExp> = {
      '{': /unclosed/i,
      'https://example.com/{id': /unclosed/i,
      'a}': /invalid character/i,
      '{}': /variable name/,
      '{=x}': /reserved operator/i,
      '{|x}': /reserved operator/i,
      '{a..b}': /variable name/,
      '{.a.}': /variable name/,
      '{a b}': /variable name/,
      '{a,}': /variable name/,
      '{x:0}': /prefix length/,
      '{x:10000}': /prefix length/,
      '{x:3*}': /variable name/,
      'a b{x}': /invalid character/i,
      '<{x}>': /invalid character/i,
      '%zz{x}': /percent-encoding/,
      '{x}\n': /invalid character/i,
    }
    for (const [template, reason] of Object.entries(invalid)) {
      assert.match(refusal(template), reason, JSON.stringify(template))
    }
  })

  it('accepts the apostrophe in literals, as verified erratum 6937 restores it', () => {
    assert.ok(compile("it's/{x}").matches("it's/1"))
  })

  it('refuses templates whose automaton would exceed MAX_TEMPLATE_STATES', () => {
    assert.match(refusal('{x:9999}'), /automaton states/)
    assert.match(refusal('{a}'.repeat(200)), /automaton states/)
    assert.match(refusal(`{x}${'a'.repeat(MAX_TEMPLATE_LENGTH)}`), /longer/i)
    // The leading ASCII text is compared as a string and costs no state; other text does.
    const long = compile(`${'a'.repeat(4000)}{x}`)
    assert.ok(long.stateCount < 32)
    assert.ok(long.matches(`${'a'.repeat(4000)}value`))
    assert.match(refusal(`{x}${'a'.repeat(4000)}`), /automaton states/)
  })
})

// A small RFC 6570 expander (Appendix A), to check that every expansion matches.

type Value = string | readonly string[] | { readonly pairs: readonly (readonly [string, string])[] }
type TestVar = { readonly name: string; readonly modifier: '' | '*' | `:${number}` }
type TestExpression = { readonly operator: string; readonly variables: readonly TestVar[] }
type TestPart = string | TestExpression

// [RFC 6570 Appendix A] first, sep, named, ifemp, and whether allow is U+R.
type TestOperator = [string, string, boolean, string, boolean]
const OPERATORS: Readonly<Record<string, TestOperator>> = {
  '': ['', ',', false, '', false],
  '+': ['', ',', false, '', true],
  '#': ['#', ',', false, '', true],
  '.': ['.', '.', false, '', false],
  '/': ['/', '/', false, '', false],
  ';': [';', ';', true, '', false],
  '?': ['?', '&', true, '=', false],
  '&': ['&', '&', true, '=', false],
}

/** Percent-encodes a character unless unreserved (`encodeURIComponent` spares `!'()*` too). */
const encodeChar = (char: string) =>
  encodeURIComponent(char).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )

/** Encodes a value; with `reserved`, reserved characters and triplets pass [RFC 6570 §3.2.1]. */
function encode(text: string, reserved: boolean): string {
  if (!reserved) return Array.from(text, encodeChar).join('')
  return text.replace(/%[0-9A-Fa-f]{2}|[:/?#[\]@!$&'()*+,;=]|./gsu, (match) =>
    match.length === 3 || (match.length === 1 && ":/?#[]@!$&'()*+,;=".includes(match))
      ? match
      : encodeChar(match),
  )
}

function expandVariable(operator: string, variable: TestVar, value: Value): string {
  const [, sep, named, ifEmpty, reserved] = OPERATORS[operator] as TestOperator
  const enc = (text: string) => encode(text, reserved)
  const { name, modifier } = variable
  if (typeof value === 'string') {
    const cut = modifier.startsWith(':')
      ? [...value].slice(0, Number(modifier.slice(1))).join('')
      : value
    return named ? name + (value === '' ? ifEmpty : `=${enc(cut)}`) : enc(cut)
  }
  const list = 'pairs' in value ? null : (value as readonly string[])
  const pairs = 'pairs' in value ? value.pairs : []
  if (modifier !== '*') {
    const joined = list
      ? list.map(enc).join(',')
      : pairs.map(([k, v]) => `${enc(k)},${enc(v)}`).join(',')
    return named ? name + (joined === '' ? ifEmpty : `=${joined}`) : joined
  }
  if (list)
    return list.map((v) => (named ? name + (v === '' ? ifEmpty : `=${enc(v)}`) : enc(v))).join(sep)
  return pairs.map(([k, v]) => enc(k) + (named && v === '' ? ifEmpty : `=${enc(v)}`)).join(sep)
}

function expand(
  parts: readonly TestPart[],
  values: Readonly<Record<string, Value | undefined>>,
): string {
  let out = ''
  for (const part of parts) {
    if (typeof part === 'string') {
      out += encode(part, true) // literals: copied, non-ASCII percent-encoded [RFC 6570 §3.1]
      continue
    }
    const [first, sep] = OPERATORS[part.operator] as TestOperator
    const defined = part.variables.flatMap((variable) => {
      const value = values[variable.name]
      const empty =
        value === undefined ||
        (typeof value !== 'string' && ('pairs' in value ? value.pairs : value).length === 0)
      return empty ? [] : [expandVariable(part.operator, variable, value)]
    })
    if (defined.length > 0) out += first + defined.join(sep)
  }
  return out
}

const render = (parts: readonly TestPart[]) =>
  parts
    .map((part) =>
      typeof part === 'string'
        ? part
        : `{${part.operator}${part.variables.map((v) => v.name + v.modifier).join(',')}}`,
    )
    .join('')

const NAMES = ['a', 'b', 'x.y', 'v_1', 'n%41'] as const
const literalArb = fc
  .array(fc.constantFrom(...Array.from("aZ0/-.,=?&;#:!~'*[@+"), '%2F', 'é', '😀'), {
    minLength: 1,
    maxLength: 4,
  })
  .map((pieces) => pieces.join(''))
const variableArb: fc.Arbitrary<TestVar> = fc.record({
  name: fc.constantFrom(...NAMES),
  modifier: fc.oneof(
    fc.constant('' as const),
    fc.constant('*' as const),
    fc.integer({ min: 1, max: 4 }).map((n) => `:${n}` as const),
  ),
})
const expressionArb: fc.Arbitrary<TestExpression> = fc.record({
  operator: fc.constantFrom(...Object.keys(OPERATORS)),
  variables: fc.array(variableArb, { minLength: 1, maxLength: 3 }),
})
const templateArb = fc.array(fc.oneof(literalArb, expressionArb), { minLength: 1, maxLength: 5 })
// Value characters: unreserved, reserved, ones no template allows raw, "%" alone and before one
// hex digit (so `+` sometimes passes a triplet through), and non-ASCII of each kind.
const valueCharacters = [...Array.from(`aZ0-._~ %/?#&=,;:+!'*["<`), '%4', 'é', '😀', '\u00a0']
const stringArb = fc
  .array(fc.constantFrom(...valueCharacters, '\ue000', '\u0085'), { maxLength: 6 })
  .map((pieces) => pieces.join(''))
const valueArb: fc.Arbitrary<Value | undefined> = fc.oneof(
  fc.constant(undefined),
  stringArb,
  fc.array(stringArb, { maxLength: 3 }),
  fc.array(fc.tuple(stringArb, stringArb), { maxLength: 3 }).map((pairs) => ({ pairs })),
)
const valuesArb = fc.record(Object.fromEntries(NAMES.map((name) => [name, valueArb])))

/** The values, with composites replaced for variables that carry a prefix (an error in the RFC). */
function forPrefixes(parts: readonly TestPart[], values: Record<string, Value | undefined>) {
  const result = { ...values }
  for (const part of parts) {
    if (typeof part === 'string') continue
    for (const { name, modifier } of part.variables) {
      if (modifier.startsWith(':') && typeof result[name] === 'object') result[name] = 'xyz'
    }
  }
  return result
}

describe('compileUriTemplate, by property', () => {
  it('matches every expansion of random templates with random values', () => {
    fc.assert(
      fc.property(templateArb, valuesArb, (parts, values) => {
        const expansion = expand(parts, forPrefixes(parts, values))
        const compiled = compile(render(parts))
        assert.ok(compiled.matches(expansion), `${render(parts)} should match ${expansion}`)
      }),
      { numRuns: 3000 },
    )
  })

  it('never matches an expansion with a space put in: no expansion holds a raw space', () => {
    fc.assert(
      fc.property(templateArb, valuesArb, fc.nat(), (parts, values, at) => {
        const expansion = expand(parts, forPrefixes(parts, values))
        const cut = at % (expansion.length + 1)
        const topic = `${expansion.slice(0, cut)} ${expansion.slice(cut)}`
        assert.equal(compile(render(parts)).matches(topic), false)
      }),
      { numRuns: 1000 },
    )
  })
})
