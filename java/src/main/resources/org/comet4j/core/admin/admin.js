/*
 * comet4j's admin page (admin.html, docs/metrics.md "The admin page"):
 * polls <page>/stats every second, keeps the last five minutes of samples
 * in a ring (the server keeps none: it answers from CometEngine.getStats()
 * each time), and draws them as SVG lines; lists the channels, the
 * presence members and the hub; posts the publish form to <page>/publish.
 * With Comet.Admin=true the API key is asked once, kept in this tab's
 * sessionStorage and sent as a bearer.  Plain ES5, no dependency.
 */
(function () {
  'use strict';

  var BASE = location.pathname.replace(/\/+$/, '');
  var EVERY_MS = 1000;
  var RING = 300;            // samples kept: five minutes at one a second
  var KEY_ITEM = 'comet4j.admin.key';

  var ring = [];             // {t, conns, out, in, fanoutMs, slow, refused}, oldest first
  var last = null;           // the previous stats answer, for the rates
  var channelsShown = '';    // the publish form's channel list, as drawn

  function $(id) { return document.getElementById(id); }

  function setState(state, text) {
    $('state').setAttribute('data-state', state);
    $('state').textContent = text;
  }

  /* fetch with the key, when there is one, as a bearer. */
  function call(path, init) {
    init = init || {};
    init.headers = init.headers || {};
    init.cache = 'no-store';
    var key = sessionStorage.getItem(KEY_ITEM);
    if (key) init.headers.Authorization = 'Bearer ' + key;
    return fetch(BASE + path, init);
  }

  // ---- polling -------------------------------------------------------------

  function poll() {
    call('/stats').then(function (res) {
      if (res.status === 401) return askKey(sessionStorage.getItem(KEY_ITEM) ? 'That key was refused.' : null);
      if (!res.ok) throw new Error('stats answered ' + res.status);
      return res.json().then(show);
    }).catch(function (e) {
      setState('error', String(e.message || e));
    }).then(function () {
      if ($('key-form').hidden) setTimeout(poll, EVERY_MS);
    });
  }

  function show(now) {
    $('key-form').hidden = true;
    $('panels').hidden = false;
    $('context').textContent = now.context;
    setState('live', 'live, ' + new Date(now.time).toLocaleTimeString());
    var s = now.stats;
    var refused = s.httpRefused + s.originsRefused + now.handshakes.beforeConnectRefused;
    var sample = { t: now.time, conns: s.conns, slow: s.slowConsumers, refused: refused,
                   out: null, 'in': null, fanoutMs: null };
    if (last) {
      var dt = Math.max(1, now.time - last.time) / 1000;
      var ls = last.stats;
      sample.out = Math.max(0, s.messagesOut - ls.messagesOut) / dt;
      sample['in'] = Math.max(0, s.messagesIn - ls.messagesIn) / dt;
      var n = s.fanouts - ls.fanouts;
      sample.fanoutMs = n > 0 ? (s.fanoutNanos - ls.fanoutNanos) / n / 1e6 : 0;
    }
    last = now;
    ring.push(sample);
    if (ring.length > RING) ring.shift();

    figure('conns', String(s.conns));
    figure('msgs-out', sample.out === null ? '-' : sample.out.toFixed(sample.out < 10 ? 1 : 0));
    figure('msgs-in', sample['in'] === null ? '-' : sample['in'].toFixed(sample['in'] < 10 ? 1 : 0));
    figure('fanout', sample.fanoutMs === null ? '-' : sample.fanoutMs.toFixed(3));
    figure('slow', String(s.slowConsumers));
    figure('refused', String(refused));
    chart('chart-conns', 'conns');
    chart('chart-msgs-out', 'out');
    chart('chart-msgs-in', 'in');
    chart('chart-fanout', 'fanoutMs');
    chart('chart-slow', 'slow');
    chart('chart-refused', 'refused');

    showChannels(now.channels);
    $('hub-mode').textContent = now.hub.mode === 'redis'
      ? now.hub.redis + ' (prefix ' + now.hub.prefix + ')' : 'local (this node alone)';
    $('hub-link').textContent = now.hub.mode === 'redis' ? (s.hubUp ? 'up' : 'DOWN') : '-';
    $('hub-outbox').textContent = String(s.hubOutbox);
    $('hub-refused').textContent = String(s.hubRefused);
    $('hub-lost').textContent = String(s.hubLost) + ' (' + s.hubGaps + ' gaps)';
    showNodes(now.hub, now.time);
    $('online').textContent = String(now.online);
    $('broadcasts').textContent = String(s.broadcasts);
    $('tickets').textContent = now.handshakes.ticketsIssued + ' (' + now.handshakes.ticketsAttached + ' attached)';
  }

  function figure(id, text) {
    if ($(id).textContent !== text) $(id).textContent = text;
  }

  // ---- charts: one polyline per svg, scaled to the ring's largest value -------

  function chart(id, field) {
    var svg = $(id);
    var w = RING - 1, max = 0, i, v;
    for (i = 0; i < ring.length; i++) {
      v = ring[i][field];
      if (v !== null && v > max) max = v;
    }
    var h = max > 0 ? max * 1.1 : 1;
    var points = [];
    var start = RING - ring.length;   // the newest sample is on the right edge
    for (i = 0; i < ring.length; i++) {
      v = ring[i][field];
      if (v !== null) points.push((start + i) + ',' + (h - v).toFixed(4));
    }
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h.toFixed(4));
    var line = svg.firstChild;
    if (!line) {
      line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
      var title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
      line.appendChild(title);
      svg.appendChild(line);
    }
    line.setAttribute('points', points.join(' '));
    line.firstChild.textContent = 'largest: ' + (Math.round(max * 1000) / 1000);
  }

  // ---- channels ---------------------------------------------------------------

  function showChannels(channels) {
    var body = $('channels');
    body.textContent = '';
    channels.forEach(function (c) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-channel', c.name);
      cell(tr, c.name);
      cell(tr, String(c.subscribers)).className = 'n subscribers';
      var td = cell(tr, '');
      if (c.presence) {
        var ul = document.createElement('ul');
        ul.className = 'members';
        c.members.forEach(function (m) {
          var li = document.createElement('li');
          li.setAttribute('data-cid', m.cId);
          li.textContent = (m.user || 'anonymous') + ' (' + m.cId + ')';
          ul.appendChild(li);
        });
        if (c.memberCount > c.members.length) {
          var more = document.createElement('li');
          more.textContent = '... ' + (c.memberCount - c.members.length) + ' more';
          ul.appendChild(more);
        }
        td.appendChild(ul);
      }
      body.appendChild(tr);
    });
    var names = channels.map(function (c) { return c.name; }).join('\n');
    if (names !== channelsShown) {
      channelsShown = names;
      var select = $('pub-channel'), chosen = select.value;
      select.textContent = '';
      channels.forEach(function (c) {
        var o = document.createElement('option');
        o.value = o.textContent = c.name;
        select.appendChild(o);
      });
      if (chosen) select.value = chosen;
    }
  }

  /* The cluster's nodes as Redis holds them: alive or silent, the last heartbeat's age. */
  function showNodes(hub, time) {
    var ul = $('nodes');
    ul.textContent = '';
    var nodes = hub.mode !== 'redis' ? [] : hub.nodes;
    if (nodes === null) {
      ul.appendChild(item('unknown: Redis does not answer', ''));
    } else if (nodes.length === 0) {
      ul.appendChild(item('this node alone', ''));
    }
    (nodes || []).forEach(function (n) {
      var age = Math.max(0, Math.round((time - n.heartbeat) / 1000));
      ul.appendChild(item(n.id + (n.self ? ' (this node)' : '') + ': ' + (n.alive ? 'alive' : 'silent') +
                          ', heartbeat ' + age + ' s ago', n.alive ? 'alive' : 'silent'));
    });
  }

  function item(text, state) {
    var li = document.createElement('li');
    if (state) li.setAttribute('data-state', state);
    li.textContent = text;
    return li;
  }

  function cell(tr, text) {
    var td = document.createElement('td');
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  // ---- the publish form -----------------------------------------------------------

  $('pub-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var text = $('pub-data').value, data;
    try { data = JSON.parse(text); } catch (notJson) { data = text; }
    var result = $('pub-result');
    result.removeAttribute('data-ok');
    result.textContent = 'sending...';
    call('/publish', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                       body: JSON.stringify({ channel: $('pub-channel').value, data: data }) })
      .then(function (res) {
        return res.json().then(function (answer) {
          result.setAttribute('data-ok', String(res.ok));
          result.textContent = res.ok ? 'sent on ' + answer.channel + ' to ' + answer.subscribers + ' subscribers'
            : res.status + ': ' + answer.error;
        });
      }).catch(function (err) {
        result.setAttribute('data-ok', 'false');
        result.textContent = String(err.message || err);
      });
  });

  // ---- the key (Comet.Admin=true) -----------------------------------------------------

  function askKey(why) {
    $('panels').hidden = true;
    $('key-form').hidden = false;
    if (why) $('key-why').textContent = why;
    setState('error', 'API key needed');
  }

  $('key-form').addEventListener('submit', function (e) {
    e.preventDefault();
    sessionStorage.setItem(KEY_ITEM, $('key').value.trim());
    $('key').value = '';
    $('key-form').hidden = true;
    setState('starting', 'checking the key...');
    poll();
  });

  poll();
}());
