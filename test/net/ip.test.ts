import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CidrSet, clientAddressFrom, clientGroupKey, normalizeIp, parseCidr } from '../../src/net/ip.ts'

test('addresses normalise: IPv4-mapped IPv6 is IPv4, IPv6 is compressed and lower case', () => {
  assert.equal(normalizeIp('::ffff:127.0.0.1'), '127.0.0.1')
  assert.equal(normalizeIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1')
  assert.equal(normalizeIp('[::1]'), '::1')
  assert.equal(normalizeIp('fe80::1%eth0'), 'fe80::1')
  assert.equal(normalizeIp('1:0:0:2:0:0:0:3'), '1:0:0:2::3')
  for (const bad of ['', '256.1.1.1', '1.2.3', 'example.com', '1.2.3.04a', ':::1']) assert.equal(normalizeIp(bad), undefined, bad)
  // Canonical IPv4 comes back as is; other spellings of it are parsed into the canonical one.
  for (const ok of ['0.0.0.0', '1.2.3.4', '10.0.0.1', '255.255.255.255', '192.168.100.200']) assert.equal(normalizeIp(ok), ok)
  assert.equal(normalizeIp('010.001.0.9'), '10.1.0.9')
  assert.equal(normalizeIp(' 1.2.3.4 '), '1.2.3.4')
  for (const bad of ['1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '1.2.3.256', '1.2.3.1000', '1.2.3.-4', '1.2.3.4a']) assert.equal(normalizeIp(bad), undefined, bad)
})

test('CIDR sets match v4 and v6 ranges and reject bad entries', () => {
  const set = new CidrSet(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::ffff:172.16.0.0/108'])
  assert.ok(set.has('10.255.0.1'))
  assert.ok(set.has('::ffff:10.1.1.1'))
  assert.ok(!set.has('11.0.0.1'))
  assert.ok(set.has('192.168.1.7') && !set.has('192.168.1.8'))
  assert.ok(set.has('2001:db8:ffff::1') && !set.has('2001:db9::1'))
  assert.ok(set.has('172.16.200.1') && !set.has('172.32.0.1'))
  assert.ok(new CidrSet(['*']).has('8.8.8.8') && new CidrSet(['*']).has('::2'))
  assert.throws(() => parseCidr('10.0.0.0/33'), /out of range/)
  assert.throws(() => parseCidr('nope/8'), /not an IP/)
})

test('the client is the rightmost untrusted X-Forwarded-For entry, only behind a trusted peer', () => {
  const trusted = new CidrSet(['127.0.0.1', '10.0.0.0/8'])
  assert.equal(clientAddressFrom('203.0.113.9', '1.1.1.1', trusted), '203.0.113.9', 'untrusted peer: header ignored')
  assert.equal(clientAddressFrom('127.0.0.1', '6.6.6.6, 198.51.100.2, 10.0.0.5', trusted), '198.51.100.2')
  assert.equal(clientAddressFrom('::ffff:127.0.0.1', '10.0.0.2, 10.0.0.3', trusted), '10.0.0.2', 'all trusted: leftmost')
  assert.equal(clientAddressFrom('127.0.0.1', 'garbage, 10.0.0.3', trusted), '10.0.0.3', 'stops at a non-address')
  assert.equal(clientAddressFrom('127.0.0.1', undefined, trusted), '127.0.0.1')
  assert.equal(clientAddressFrom('127.0.0.1', ['5.5.5.5', '7.7.7.7'], trusted), '7.7.7.7')
})

test('IPv6 clients group by prefix, IPv4 by address', () => {
  assert.equal(clientGroupKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64')
  assert.equal(clientGroupKey('2001:db8:1:2:bbbb::9'), '2001:db8:1:2::/64')
  assert.equal(clientGroupKey('2001:db8:1:2:bbbb::9', 48), '2001:db8:1::/48')
  assert.equal(clientGroupKey('::ffff:9.9.9.9'), '9.9.9.9')
})
