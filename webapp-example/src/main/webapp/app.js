/* The example page: wires JS.Engine's events to the elements of index.html. */
(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }

  /* Every event, in order, for anyone (or any test) who wants to look. */
  var events = window.comet4jEvents = [];

  function setStatus(state, text) {
    var el = $('status');
    el.setAttribute('data-state', state);
    el.textContent = text;
  }

  JS.Engine.on({
    start: function (cId, channels, engine) {
      events.push({ name: 'start', cId: cId, channels: channels });
      setStatus('connected', 'connected (' + engine.getConnector().workStyle +
                ') as ' + cId);
      /* Who was here before this page: the lobby.who action. join and
       * leave keep the list up to date from now on. */
      engine.request('lobby.who').then(function (members) {
        for (var i = 0; i < members.length; i++) {
          showMember(members[i].cId, members[i].user);
        }
      }, function (err) {
        events.push({ name: 'error', route: 'lobby.who', code: err.code });
      });
    },
    stop: function (cause, cId) {
      events.push({ name: 'stop', cause: cause, cId: cId });
      setStatus('stopped', 'stopped: ' + cause);
    },
    clock: function (time) {
      events.push({ name: 'clock', data: time });
      $('clock').textContent = time;
    },
    welcome: function (data) {
      events.push({ name: 'welcome', data: data });
      $('welcome').textContent = data.text;
    },
    count: function (n) {
      events.push({ name: 'count', data: n });
      $('count').textContent = n;
    },
    chat: function (line) {
      events.push({ name: 'chat', data: line });
      var li = document.createElement('li');
      var who = document.createElement('b');
      who.textContent = line.name + (line['private'] ? ' (private)' : '') + ': ';
      li.appendChild(who);
      li.appendChild(document.createTextNode(line.text));
      $('chat-log').appendChild(li);
    },
    board: function (note) {
      events.push({ name: 'board', data: note });
      var li = document.createElement('li');
      li.textContent = (note.name || 'anonymous') + ': ' + note.text;
      $('board-log').appendChild(li);
    },
    /* A message of bytes: a Uint8Array, on every transport. */
    bytes: function (data) {
      events.push({ name: 'bytes', bytes: data instanceof Uint8Array,
                    data: Array.prototype.slice.call(data) });
      var hex = Array.prototype.map.call(data.subarray(0, 16), function (b) {
        return (b < 16 ? '0' : '') + b.toString(16);
      }).join(' ');
      logBytes(data.length + ' bytes: ' + hex + (data.length > 16 ? ' ...' : ''));
    },
    'bytes.seen': function (seen) {
      events.push({ name: 'bytes.seen', data: seen });
      logBytes('the server saw ' + seen.length + ' bytes from ' + seen.cId +
               ' (sum ' + seen.sum + ')');
    },
    join: function (channel, user, cId) {
      events.push({ name: 'join', channel: channel, user: user, cId: cId });
      if (channel === 'lobby') showMember(cId, user);
    },
    leave: function (channel, user, cId) {
      events.push({ name: 'leave', channel: channel, user: user, cId: cId });
      var li = channel === 'lobby' && memberItem(cId);
      if (li) li.parentNode.removeChild(li);
    },
    /* After a reconnect: recovered is false when lines were lost while
     * the page was away (longer than the server's history keeps them).
     * A real application would reload the channel's state here. */
    recovered: function (recovered, channel) {
      events.push({ name: 'recovered', recovered: recovered, channel: channel });
      if (channel === 'chat' && !recovered) {
        var li = document.createElement('li');
        li.className = 'gap';
        li.textContent = '(some lines were missed while this page was offline)';
        $('chat-log').appendChild(li);
      }
    }
  });

  /* The lobby list: one li per connection, data-cid its id. */
  function memberItem(cId) {
    var items = $('lobby').children;
    for (var i = 0; i < items.length; i++) {
      if (items[i].getAttribute('data-cid') === cId) return items[i];
    }
    return null;
  }
  function showMember(cId, user) {
    if (memberItem(cId)) return;
    var li = document.createElement('li');
    li.setAttribute('data-cid', cId);
    li.textContent = (user || cId) + (cId === JS.Engine.getId() ? ' (you)' : '');
    $('lobby').appendChild(li);
  }

  function logBytes(text) {
    var li = document.createElement('li');
    li.textContent = text;
    $('bytes-log').appendChild(li);
  }

  JS.on($('bytes-send'), 'click', function () {
    var b = new Uint8Array(16);
    for (var i = 0; i < b.length; i++) b[i] = Math.floor(Math.random() * 256);
    JS.Engine.publish('bytes', b).then(null, function (err) {
      logBytes('error ' + err.code + ': ' + err.message);
    });
  });

  JS.on($('bytes-make'), 'click', function () {
    JS.Engine.request('bytes.make', { n: 16 }).then(null, function (err) {
      logBytes('error ' + err.code + ': ' + err.message);
    });
  });

  function failed(el) {
    return function (err) {
      el.textContent = 'error ' + err.code + ': ' + err.message;
    };
  }

  JS.on($('board-form'), 'submit', function (e) {
    e.preventDefault();
    var input = $('board-input');
    if (!input.value) return;
    $('board-error').textContent = '';
    JS.Engine.publish('board', { name: name || $('chat-name').value || undefined,
                                 text: input.value })
      .then(null, failed($('board-error')));
    input.value = '';
  });

  JS.on($('time-now'), 'click', function () {
    JS.Engine.request('time.now').then(function (now) {
      $('time-result').textContent = now.text;
    }, failed($('time-result')));
  });

  JS.on($('sum-form'), 'submit', function (e) {
    e.preventDefault();
    var numbers = $('sum-input').value.split(/[\s,]+/).filter(Boolean).map(Number);
    JS.Engine.request('sum', { numbers: numbers }).then(function (total) {
      $('sum-result').textContent = '= ' + total;
    }, failed($('sum-result')));
  });

  JS.on($('chat-form'), 'submit', function (e) {
    e.preventDefault();
    var input = $('chat-input');
    if (!input.value) return;
    JS.AJAX.post('chat', { name: $('chat-name').value, to: $('chat-to').value,
                           text: input.value });
    input.value = '';
  });

  /* ?refuse=1 demonstrates a refused handshake (see AppInit);
   * ?workStyle=websocket|stream|lpool forces a transport (the default,
   * auto, falls back from one to the next). */
  var refuse = /(^|[?&])refuse=1(&|$)/.test(location.search);
  var forced = /(?:^|[?&])workStyle=(websocket|stream|lpool)(?:&|$)/.exec(location.search);
  /* ?name=alice: the connection's user (see NameFromRequest in AppInit). */
  var named = /(?:^|[?&])name=([^&]*)/.exec(location.search);
  var name = named ? decodeURIComponent(named[1].replace(/\+/g, ' ')) : '';
  if (name) $('chat-name').value = name;
  var param = refuse ? { refuse: 1 } : name ? { name: name } : undefined;
  JS.Engine.start('conn', param, { workStyle: forced ? forced[1] : 'auto' });
}());
