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
      who.textContent = line.name + ': ';
      li.appendChild(who);
      li.appendChild(document.createTextNode(line.text));
      $('chat-log').appendChild(li);
    }
  });

  JS.on($('chat-form'), 'submit', function (e) {
    e.preventDefault();
    var input = $('chat-input');
    if (!input.value) return;
    JS.AJAX.post('chat', { name: $('chat-name').value, text: input.value });
    input.value = '';
  });

  /* ?refuse=1 demonstrates a refused handshake (see AppInit). */
  var refuse = /(^|[?&])refuse=1(&|$)/.test(location.search);
  JS.Engine.start('conn', refuse ? { refuse: 1 } : undefined);
}());
