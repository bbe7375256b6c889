/* Tricky JavaScript for the minifier: the test runs this file and its minified version with node and compares
 * what they print. Every construct here is one where a careless minifier changes the meaning. */
'use strict'
const out = []
function log(name, v) { out.push(name + ': ' + JSON.stringify(v)) }

// ASI: no semicolons at all in this block
let a = 1
let b = 2
let c = a
+ b
log('asi continuation', c)
function ret() {
  return
    42
}
log('return newline', ret())
let i = 5
let j = i
++i
log('prefix ++ after newline', [i, j])
let k = 3
k
--i
log('prefix -- after newline', [k, i])
const arr = [1, 2, 3]
const s1 = arr
  .map(x => x * 2)
  .filter(x => x > 2)
log('chained newlines', s1)
let t = `x`
;[1, 2].forEach(v => { t += v })
log('leading semicolon', t)
function* gen() {
  yield
  1
  yield 2
}
log('yield newline', [...gen()])
outer: for (let n = 0; n < 3; n++) {
  for (let m = 0; m < 3; m++) {
    if (m === 1) continue
    if (n === 1) break outer
    out.push('loop ' + n + m)
  }
}

// regular expressions vs division
const g = 2, h = 4
log('division', h / g / 1)
log('regex after (', ('a/b').split(/\//))
log('regex class', 'a/b]c'.replace(/[/\]]/g, '-'))
log('regex flags', /AB+c/i.test('abbC'))
log('regex after return', (function () { return /x\/y/.source })())
log('regex after typeof', typeof /re/)
if (true) /ok/.test('ok') && log('regex after if ()', 1)
log('division after )', (h + g) / 2)
log('division after ]', [8][0] / 2)
log('division after }', ({ valueOf() { return 9 } }) / 3)
let re = 1
re = h /re/ 2
log('division chain that looks like a regex', re)
log('regex in ternary', true ? /a/.source : /b/.source)
{ }
/block-then-regex/.test('block-then-regex') && log('regex after block', true)

// spacing operators
let p = 5, q = 2
log('plus plus', p + +q)
log('minus minus', p - -q)
log('plus preinc', p + ++q)
log('minus predec', p - --q)
log('postinc plus', [p++ + q, p])
log('postdec minus', [p-- - q, p])
log('unary chain', - -p)
log('not not', !!p)
log('number member', 1 .toString() + 1.5.toFixed(1) + 2..toString())
log('in', 'a' in { a: 1 })
log('instanceof', [] instanceof Array)
log('typeof', typeof 'x' + typeof void 0)
log('less than not', 1 < !0)
log('exponent', 2 ** -1)
log('numbers', [0x1e+5, 1e+5, 1_000, 0b101, 0o17, 10n.toString(), .5, 5.])
log('optional chain vs ternary', (p ? .5 : 1))
log('optional chain', ({ x: { y: 1 } })?.x?.y)
log('nullish', null ?? 'd')

// strings and templates
log('strings', ["a  b", 'c // d', "e /* f */ g", 'h\'i', "j\"k", 'line\
continued'])
const name = 'n'
log('template', `a  ${name}  b ${`nested ${name + `deep ${1 + 1}`}`} // not a comment /* nor this */`)
log('template object', `${{ a: 1 }.a}`)
log('template braces', `${(() => { return '{' })()}}`)
function tag(s, ...v) { return s.raw.join('|') + v.join(',') }
log('tagged', tag`x ${1} y ${2}`)
log('template regex', `${/}/.source}`)

// keywords that need a space, and ones that do not
class A { static #p = 1; static get p() { return A.#p } ['computed key']() { return 2 } }
log('class', [A.p, new A()['computed key']()])
log('new', new Date(0).getTime())
log('delete', (() => { const o = { x: 1 }; delete o.x; return Object.keys(o) })())
log('async', 'x')
async function af() { await null; return 'awaited' }
af().then(v => log('async result', v)).then(() => console.log(out.join('\n')))
log('arrow object', (() => ({ a: 1 }))())
log('comma', (1, 2))
log('void', void 0)
let obj = { if: 1, new: 2, return: 3 }
log('keyword properties', obj.if + obj.new + obj.return)
let u = obj
.if
log('keyword property after newline', u)
var html = '<!-- not a comment -->'
log('html-like in string', html)
log('less-than-not', 3 < !--u)
