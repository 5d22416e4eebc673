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
      who.textContent = line.name + (line['private'] ? ' (private)' : '') + ': ';
      li.appendChild(who);
      li.appendChild(document.createTextNode(line.text));
      $('chat-log').appendChild(li);
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
  JS.Engine.start('conn', refuse ? { refuse: 1 } : undefined,
                  { workStyle: forced ? forced[1] : 'auto' });
}());
