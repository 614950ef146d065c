// The bot rules' per-request shortcuts must decide exactly as the plain versions: the Host check
// written as a loop agrees with the regular expression it replaces, probe paths match whatever
// their case, and user agents that share a cache fingerprint each keep their own verdict.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BotRules, validHost } from '../../src/firewall/bots.ts'
import { compileConfig } from '../../src/firewall/config.ts'
import type { FirewallRequest } from '../../src/firewall/contract.ts'

const HOST = /^[a-z0-9._~!$&'()*+,;=%-]+(?::\d{1,5})?$|^\[[0-9a-f:.]+\](?::\d{1,5})?$/i

test('validHost agrees with the Host regular expression', () => {
  const cases = ['127.0.0.1:19601', 'shop.example', 'Shop.Example:8080', 'a b<script>', '', '[::1]', '[::1]:80', '[::1]:',
    '[]', '[::1]x', 'host:', 'host:123456', 'host:12345', 'a:b', '[2001:DB8::1]:443', 'ex%41mple', ':80', 'caf\u00e9', '[::1]]',
    'x:1:2', '[g::1]', 'a/b', 'a\\b', 'a@b', "o'k!$&()*+,;=~-_.", '[::1', '::1']
  for (const c of cases) assert.equal(validHost(c), HOST.test(c), JSON.stringify(c))
  // And on random strings over the characters that matter.
  const alphabet = 'a0Z9.:[]-_%~! /@\u00e9'
  let seed = 7
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
  for (let i = 0; i < 20000; i++) {
    let s = ''
    for (let j = rnd(9); j > 0; j--) s += alphabet[rnd(alphabet.length)]
    assert.equal(validHost(s), HOST.test(s), JSON.stringify(s))
  }
})

function rules(): BotRules {
  return new BotRules(compileConfig({ bots: {} }, {}).bots, { root: process.cwd(), watch: 'off', pollInterval: 1000, log: () => {} })
}
const req = (path: string, ua?: string): FirewallRequest => ({
  clientAddress: '192.0.2.1', method: 'GET', path, httpVersion: '1.1', headers: { host: 'shop.example', ...(ua ? { 'user-agent': ua } : {}) },
})

test('probe paths match in any case, as the lowercased path did', () => {
  const b = rules()
  for (const p of ['/.git/config', '/.GIT/config', '/WP-Login.php', '/x/../etc/PASSWD', '/.DS_Store']) assert.equal(b.check(req(p))?.rule, 'bot.probe', p)
  for (const p of ['/', '/products/shoe-42/', '/git/config', '/static/app.css']) assert.equal(b.check(req(p)), undefined, p)
})

test('user agents that share a cache fingerprint each keep their own verdict', () => {
  const b = rules()
  // The fingerprint samples the length and 8 characters (positions 12, 24, 37, 49, 61, 74, 86 and
  // 99 of a 100-character agent): these two differ only elsewhere.
  const browser = 'Mozilla/5.0 ' + 'a'.repeat(88)
  const scanner = 'M' + 'nikto' + browser.slice(6)
  assert.equal(scanner.length, browser.length)
  for (let round = 0; round < 3; round++) {
    assert.equal(b.check(req('/', scanner))?.rule, 'bot.agent')
    assert.equal(b.check(req('/', browser)), undefined)
  }
})

test('agents remembered by length keep their own verdicts, alone or taking turns in a length slot', () => {
  const b = rules()
  const browser = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0'
  const scanner = 'Mozilla/5.0 (compatible; sqlmap/1.8; scan)...'
  assert.equal(scanner.length, browser.length)
  // 256 characters longer: the same length slot, another length.
  const longBrowser = browser + 'x'.repeat(256)
  for (let round = 0; round < 3; round++) {
    assert.equal(b.check(req('/', browser)), undefined)
    assert.equal(b.check(req('/', browser)), undefined)
    assert.equal(b.check(req('/', scanner))?.rule, 'bot.agent')
    assert.equal(b.check(req('/', scanner))?.rule, 'bot.agent')
    assert.equal(b.check(req('/', longBrowser)), undefined)
    assert.equal(b.check(req('/', scanner + 'x'.repeat(256)))?.rule, 'bot.agent')
  }
})

test('the last valid Host is remembered, and every other Host is still checked', () => {
  const b = rules()
  const withHost = (host: string): FirewallRequest => ({ ...req('/'), headers: { host } })
  for (let round = 0; round < 3; round++) {
    assert.equal(b.check(withHost('shop.example')), undefined)
    assert.equal(b.check(withHost('shop.example')), undefined)
    assert.equal(b.check(withHost('shop.examp<e'))?.reason, 'invalid Host header')
    assert.equal(b.check(withHost('shop.example:8080')), undefined)
    assert.equal(b.check(withHost('shop.example:808080'))?.reason, 'invalid Host header')
  }
})

test('the probe-path pair prefilter never hides a match the rule expression finds', async () => {
  const { readFileSync } = await import('node:fs')
  const { DEFAULT_BOT_RULES_FILE, parseRules } = await import('../../src/firewall/bots.ts')
  // The reference: every probe rule as its own case-insensitive test, no prefilter.
  const probes = parseRules(readFileSync(DEFAULT_BOT_RULES_FILE, 'utf8'), 'default').filter((r) => r.kind !== 'agent')
  const reference = (p: string) => probes.some((r) => r.kind === 'path' ? p.toLowerCase().startsWith(r.pattern.toLowerCase()) : p.toLowerCase().includes(r.pattern.toLowerCase()))
  const b = rules()
  const alphabet = '/./.gitGITenvwp-adminPHP\u00e9\u212a_-'
  let seed = 11
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
  for (let i = 0; i < 20000; i++) {
    // Half start from a rule's own text in a random case, cut short or not.
    const r = probes[rnd(probes.length)]!.pattern
    let s = rnd(2) ? '/' : [...r.slice(0, rnd(r.length + 1))].map((ch) => rnd(2) ? ch.toUpperCase() : ch).join('')
    for (let j = rnd(14); j > 0; j--) s += alphabet[rnd(alphabet.length)]
    assert.equal(b.check(req(s))?.rule === 'bot.probe', reference(s), JSON.stringify(s))
  }
  // A user rule file with a one-character or non-ASCII pattern turns the prefilter off, still right.
  const { mkdtempSync, writeFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { tmpdir } = await import('node:os')
  const dir = mkdtempSync(join(tmpdir(), 'bots-'))
  writeFileSync(join(dir, 'rules.txt'), 'contains ~\ncontains /caf\u00e9\n')
  const custom = new BotRules(compileConfig({ bots: { files: ['rules.txt'] } }, {}).bots, { root: dir, watch: 'off', pollInterval: 1000, log: () => {} })
  for (const p of ['/~user', '/CAF\u00c9/x', '/.git/', '/fine']) assert.equal(custom.check(req(p))?.rule === 'bot.probe', p !== '/fine', p)
  custom.close()
})
