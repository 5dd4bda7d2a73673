#!/usr/bin/env node
/*
 * Writes the sample logs next to this file: orders.csv and support-tickets.xes. Both are seeded,
 * so running it again gives the same files. Each plants one recurring sequence among unrelated
 * activities, which the analyzer should find:
 *   orders.csv:           crm.lookup_customer → orders.get → payments.refund → email.send_confirmation
 *   support-tickets.xes:  ticket.classify → kb.search → reply.draft → reply.send
 */
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function ordersCsv() {
  const rnd = random(7);
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const planted = ['crm.lookup_customer', 'orders.get', 'payments.refund', 'email.send_confirmation'];
  const noise = ['audit.log', 'slack.notify', 'Prüfung der Rechnung', 'inventory.check', 'orders.list'];
  const people = ['ana', 'bo', 'chen', 'dara', 'émile'];
  const rows = ['case_id,activity,timestamp,resource,outcome,intent,order_id,amount'];
  let time = Date.UTC(2026, 0, 5, 8, 0, 0);
  for (let c = 1; c <= 70; c++) {
    const caseId = `order-${1000 + c}`;
    const orderId = String(50_000 + c);
    const amount = (10 + rnd() * 490).toFixed(2);
    const refund = rnd() < 0.75;
    const steps = refund ? [...planted] : ['crm.lookup_customer', 'orders.get', 'orders.list'];
    // Unrelated calls land between the planted steps.
    for (let k = 0, n = 1 + Math.floor(rnd() * 2); k < n; k++) steps.splice(1 + Math.floor(rnd() * steps.length), 0, pick(noise));
    const intent = refund ? `refund order ${orderId}` : `where is order ${orderId}`;
    time += Math.floor(rnd() * 3_600_000);
    let t = time;
    for (const activity of steps) {
      const fails = activity === 'payments.refund' && rnd() < 0.12;
      const stamp = new Date(t).toISOString().replace('T', ' ').slice(0, 19);
      const label = activity.includes(' ') ? `"${activity}"` : activity;
      rows.push([caseId, label, stamp, pick(people), fails ? 'card declined' : 'success', `"${intent}"`, orderId, amount].join(','));
      // Two activities of a case now and then share a second: the file order decides.
      t += rnd() < 0.1 ? 0 : 1000 + Math.floor(rnd() * 60_000);
    }
  }
  return `${rows.join('\n')}\n`;
}

function supportXes() {
  const rnd = random(11);
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const planted = ['ticket.classify', 'kb.search', 'reply.draft', 'reply.send'];
  const noise = ['crm.lookup_customer', 'ticket.tag', '顧客への連絡', 'sla.check'];
  const agents = ['sam', 'noor', 'kim'];
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<log xes.version="1.0" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">',
    '  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>',
    '  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>',
    '  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>',
    '  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>',
    '  <global scope="trace"><string key="concept:name" value="__INVALID__"/></global>',
    '  <global scope="event"><string key="concept:name" value="__INVALID__"/><date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/></global>',
    '  <classifier name="Activity" keys="concept:name"/>',
    '  <string key="concept:name" value="support tickets (sample)"/>',
  ];
  let time = Date.UTC(2026, 1, 2, 9, 0, 0);
  for (let c = 1; c <= 50; c++) {
    const ticket = `T-${700 + c}`;
    const steps = rnd() < 0.8 ? [...planted] : ['ticket.classify', 'ticket.tag', 'reply.send'];
    for (let k = 0, n = Math.floor(rnd() * 3); k < n; k++) steps.splice(1 + Math.floor(rnd() * steps.length), 0, pick(noise));
    out.push('  <trace>');
    out.push(`    <string key="concept:name" value="${ticket}"/>`);
    out.push(`    <string key="intent" value="${esc(pick(['password reset', 'invoice copy', 'shipping delay']))} for ${ticket}"/>`);
    time += Math.floor(rnd() * 7_200_000);
    let t = time;
    for (const activity of steps) {
      const agent = pick(agents);
      const timed = activity === 'kb.search' || activity === 'reply.draft';
      const event = (transition, at) => {
        out.push('    <event>');
        out.push(`      <string key="concept:name" value="${esc(activity)}"/>`);
        out.push(`      <string key="lifecycle:transition" value="${transition}"/>`);
        out.push(`      <date key="time:timestamp" value="${new Date(at).toISOString()}"/>`);
        out.push(`      <string key="org:resource" value="${agent}"/>`);
        if (activity === 'kb.search' && transition === 'complete') {
          out.push('      <container key="query">');
          out.push(`        <string key="text" value="${esc(ticket)} how to"/>`);
          out.push(`        <int key="hits" value="${Math.floor(rnd() * 20)}"/>`);
          out.push('      </container>');
        }
        if (activity === 'reply.send' && transition === 'complete') {
          out.push(`      <string key="channel" value="${pick(['email', 'chat'])}">`);
          out.push(`        <boolean key="templated" value="${rnd() < 0.5}"/>`);
          out.push('      </string>');
        }
        out.push('    </event>');
      };
      if (timed) {
        event('start', t);
        t += 5_000 + Math.floor(rnd() * 120_000);
        event(activity === 'reply.draft' && rnd() < 0.1 ? 'ate_abort' : 'complete', t);
      } else {
        event('complete', t);
      }
      t += 1_000 + Math.floor(rnd() * 30_000);
    }
    out.push('  </trace>');
  }
  out.push('</log>');
  return `${out.join('\n')}\n`;
}

writeFileSync(join(__dirname, 'orders.csv'), ordersCsv());
writeFileSync(join(__dirname, 'support-tickets.xes'), supportXes());
