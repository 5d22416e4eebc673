/*
 * comet4j.js: the page client of comet4j-native, with Comet4J's page API.
 *
 * No dependencies. Load it with a plain <script> (it defines the global JS,
 * with JS.Engine), or require/import it where module.exports exists.
 *
 *   JS.Engine.on('clock', function (data, time, engine) { ... });
 *   JS.Engine.on({ start: fn, stop: fn });
 *   JS.Engine.start('conn');               // or start('conn', {room: 7})
 *
 * The file reads top to bottom: small helpers, the transport (WebSocket now;
 * streaming and long-polling fallbacks will implement the same interface),
 * the protocol codec (docs/protocol.md), then the engine.
 */
(function (root, factory) {
  var JS = factory(root);
  if (typeof module === 'object' && module && module.exports) {
    module.exports = JS;
  } else {
    root.JS = JS;
  }
}(typeof globalThis !== 'undefined' ? globalThis :
  typeof self !== 'undefined' ? self : this, function (root) {
  'use strict';

  var JS = { version: '1.0.0' };

  /* ---------------------------------------------------------------------
   * Small helpers
   * ------------------------------------------------------------------- */

  /* Console calls are guarded: old browsers and some embedded webviews have
   * no console, and a log line must never break the page. */
  function log(level, args) {
    var c = root && root.console;
    if (!c) return;
    try {
      (c[level] || c.log).apply(c, ['[comet4j]'].concat(args));
    } catch (e) { /* nothing sensible left to do */ }
  }
  function warn() { log('warn', Array.prototype.slice.call(arguments)); }

  function isObject(v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  }

  /* An object becomes a=1&b=x%20y (arrays repeat the key); a string is
   * taken as an already encoded query and only loses a leading ? or &. */
  function toQuery(param) {
    if (param == null || param === '') return '';
    if (typeof param === 'string') return param.replace(/^[?&]+/, '');
    var parts = [];
    Object.keys(param).forEach(function (k) {
      var v = param[k];
      if (v === undefined) return;
      [].concat(v).forEach(function (one) {
        parts.push(encodeURIComponent(k) + '=' +
                   encodeURIComponent(one == null ? '' : String(one)));
      });
    });
    return parts.join('&');
  }

  function appendQuery(url, query) {
    if (!query) return url;
    return url + (url.indexOf('?') === -1 ? '?' : '&') + query;
  }

  var FORM_TYPE = 'application/x-www-form-urlencoded; charset=UTF-8';

  /* One HTTP request; done(status, text, xhr) runs exactly once, with status
   * 0 on a network error. XMLHttpRequest where it exists (pages, and the
   * AJAX callbacks get the real xhr), fetch otherwise (workers, node).
   * Cookies go along so the handshake runs in the page's session. Returns
   * {abort}; an aborted request never calls done. */
  function request(method, url, body, done) {
    var finished = false;
    function finish(status, text, xhr) {
      if (finished) return;
      finished = true;
      done(status, text, xhr);
    }
    if (typeof root.XMLHttpRequest === 'function' ||
        typeof root.XMLHttpRequest === 'object') {
      var xhr = new root.XMLHttpRequest();
      xhr.open(method, url, true);
      xhr.withCredentials = true;
      if (body != null) xhr.setRequestHeader('Content-Type', FORM_TYPE);
      xhr.onreadystatechange = function () {
        if (xhr.readyState === 4) finish(xhr.status, xhr.responseText, xhr);
      };
      xhr.send(body == null ? null : body);
      return { abort: function () {
        finished = true;
        try { xhr.abort(); } catch (e) { /* already done */ }
      } };
    }
    var ctrl = typeof root.AbortController === 'function' ?
      new root.AbortController() : null;
    var init = { method: method, credentials: 'include', cache: 'no-store' };
    if (ctrl) init.signal = ctrl.signal;
    if (body != null) {
      init.body = body;
      init.headers = { 'Content-Type': FORM_TYPE };
    }
    root.fetch(url, init).then(function (res) {
      return res.text().then(function (text) {
        finish(res.status, text, { status: res.status, responseText: text });
      });
    }).catch(function () {
      finish(0, '', { status: 0, responseText: '' });
    });
    return { abort: function () {
      finished = true;
      if (ctrl) ctrl.abort();
    } };
  }

  /* Comet4J's DOM and AJAX helpers, kept because Comet4J pages use them. */
  JS.on = function (el, name, fn) {
    if (el.addEventListener) el.addEventListener(name, fn, false);
    else if (el.attachEvent) el.attachEvent('on' + name, fn);
  };
  JS.un = function (el, name, fn) {
    if (el.removeEventListener) el.removeEventListener(name, fn, false);
    else if (el.detachEvent) el.detachEvent('on' + name, fn);
  };

  /* callback(responseText, xhr) once the answer is complete, whatever its
   * status: the page decides what a 500 means. */
  JS.AJAX = {
    get: function (url, param, callback) {
      return request('GET', appendQuery(url, toQuery(param)), null,
        function (status, text, xhr) { if (callback) callback(text, xhr); });
    },
    post: function (url, param, callback) {
      return request('POST', url, toQuery(param),
        function (status, text, xhr) { if (callback) callback(text, xhr); });
    }
  };

  /* ---------------------------------------------------------------------
   * Transport
   *
   * A transport carries protocol frames (strings) and knows nothing of
   * their meaning. Every transport has the same shape, so a fallback list
   * can be tried in order later:
   *
   *   var t = new Transport(callbacks)   callbacks: onOpen(), onFrame(text),
   *                                                 onClose(code, reason)
   *   t.open(endpoint, ticket)           starts connecting
   *   t.send(text)                       one frame; false if it cannot
   *   t.close()                          closes; no callback runs after it
   *
   * onClose runs at most once, and only for a close the engine did not ask
   * for.
   * ------------------------------------------------------------------- */

  function WebSocketTransport(callbacks, WebSocketImpl) {
    this.callbacks = callbacks;
    this.WebSocket = WebSocketImpl || root.WebSocket;
    this.ws = null;
    this.closed = false;
  }
  WebSocketTransport.workStyle = 'websocket';
  WebSocketTransport.supported = function () {
    return typeof root.WebSocket === 'function' ||
           typeof root.WebSocket === 'object';
  };
  WebSocketTransport.prototype.open = function (endpoint, ticket) {
    var self = this;
    var url = appendQuery(endpoint, 'ticket=' + encodeURIComponent(ticket));
    var ws;
    try {
      ws = new this.WebSocket(url);
    } catch (e) {
      /* A malformed endpoint throws synchronously; report it like any
       * other failed attempt, but asynchronously as callers expect. */
      setTimeout(function () { self.fail(1006, String(e && e.message)); }, 0);
      return;
    }
    this.ws = ws;
    ws.onopen = function () {
      if (!self.closed) self.callbacks.onOpen();
    };
    ws.onmessage = function (ev) {
      if (self.closed) return;
      /* Binary frames are not part of the protocol; ignore them. */
      if (typeof ev.data === 'string') self.callbacks.onFrame(ev.data);
    };
    /* Browsers fire error then close; the close carries the useful code. */
    ws.onerror = function () {};
    ws.onclose = function (ev) {
      self.fail(ev.code || 1006, ev.reason || '');
    };
  };
  WebSocketTransport.prototype.fail = function (code, reason) {
    if (this.closed) return;
    this.closed = true;
    this.callbacks.onClose(code, reason);
  };
  WebSocketTransport.prototype.send = function (text) {
    if (this.closed || !this.ws || this.ws.readyState !== 1) return false;
    try {
      this.ws.send(text);
      return true;
    } catch (e) {
      return false;
    }
  };
  WebSocketTransport.prototype.close = function () {
    this.closed = true;
    var ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    try { ws.close(1000); } catch (e) { /* already closing */ }
  };

  /* workStyle -> transport constructor. Fallbacks join this table. */
  var TRANSPORTS = { websocket: WebSocketTransport };

  /* ---------------------------------------------------------------------
   * Protocol: JSON frames, one object per frame, type in "t"
   * (docs/protocol.md). Only encodes and decodes; the engine decides.
   * ------------------------------------------------------------------- */

  var Protocol = {
    VERSION: 1,

    encode: function (frame) {
      return JSON.stringify(frame);
    },

    /* A frame object, or null for anything that is not a well-formed
     * frame: the engine drops those rather than dying on a server bug. */
    decode: function (text) {
      var f;
      try {
        f = JSON.parse(text);
      } catch (e) {
        return null;
      }
      if (!isObject(f) || typeof f.t !== 'string') return null;
      if (f.t === 'msg' && typeof f.ch !== 'string') return null;
      return f;
    },

    /* The handshake answer, or null if it lacks what the engine needs. */
    decodeHandshake: function (text) {
      var h;
      try {
        h = JSON.parse(text);
      } catch (e) {
        return null;
      }
      if (!isObject(h) || typeof h.ticket !== 'string' ||
          !Array.isArray(h.endpoints) || h.endpoints.length === 0 ||
          typeof h.endpoints[0] !== 'string') {
        return null;
      }
      return {
        cId: typeof h.cId === 'string' ? h.cId : '',
        channels: Array.isArray(h.channels) ? h.channels : [],
        ticket: h.ticket,
        endpoints: h.endpoints,
        workStyle: typeof h.workStyle === 'string' ? h.workStyle : 'websocket',
        heartbeat: h.heartbeat > 0 ? h.heartbeat : 0,
        timeout: h.timeout > 0 ? h.timeout : 0
      };
    },

    ping: function () { return { t: 'ping' }; }
  };

  /* ---------------------------------------------------------------------
   * Engine
   *
   * Stop causes (the first argument of the 'stop' event):
   *   'stop'           stop() was called without a cause (stop(cause)
   *                    passes the page's own cause through)
   *   'refused'        the handshake answered 403: a BeforeConnectListener
   *                    said no. Never retried.
   *   'error'          the handshake failed on the network or its answer
   *                    was not a handshake. Retried.
   *   'http:<status>'  the handshake answered another status (404, 500..).
   *                    Retried.
   *   'timeout'        the handshake, or the server's open frame, did not
   *                    come in time, or the connection went silent for two
   *                    heartbeats. Retried.
   *   'closed:<code>'  the connection closed with this WebSocket close code
   *                    (1006: no close frame, e.g. the attach was refused
   *                    with 401/503 or the network dropped). Retried unless
   *                    the code is in NO_RETRY_CODES.
   *
   * Retries wait a capped, jittered backoff and run a fresh handshake (a
   * new ticket), and the 'start' event fires again once open. Unlike
   * Comet4J, listeners stay registered after 'stop': they are needed again
   * when the engine reconnects or the page starts it again.
   *
   * Event names are exact (case-sensitive) channel names; 'start' and
   * 'stop' are the engine's own, so no channel should use them.
   * ------------------------------------------------------------------- */

  /* Close codes after which a reconnect would be refused again, or would
   * fight the server's decision: protocol error (1002), binary data
   * (1003), bad UTF-8 (1007), policy (1008), dropped by the application
   * (4003), replaced by a newer attach of the same id (4004). */
  var NO_RETRY_CODES = { 1002: 1, 1003: 1, 1007: 1, 1008: 1, 4003: 1, 4004: 1 };

  var DEFAULTS = {
    handshakeTimeout: 10000, /* ms for the GET ?cmd=conn answer */
    openTimeout: 10000,      /* ms from new WebSocket to the open frame */
    retryMin: 500,           /* first reconnect delay, ms (before jitter) */
    retryMax: 10000          /* cap of the doubling delay, ms */
  };

  function CometEngine(options) {
    this.options = {};
    for (var k in DEFAULTS) this.options[k] = DEFAULTS[k];
    for (k in (options || {})) this.options[k] = options[k];

    /* Comet4J's public fields. */
    this.running = false;   /* true between the 'start' and 'stop' events */
    this.connector = { workStyle: '', url: '', cId: '', channels: [],
                       param: '', running: false };

    this._listeners = {};   /* name -> array, replaced on every change */
    this._state = 'stopped'; /* stopped | connecting | open | waiting */
    this._attempt = 0;      /* id of the current attempt; older callbacks
                             * compare theirs and return */
    this._failures = 0;     /* consecutive failed attempts, for backoff */
    this._http = null;      /* handshake request in flight */
    this._transport = null;
    this._timer = null;     /* handshake/open timeout or reconnect delay */
    this._beat = null;      /* heartbeat interval while open */
    this._lastRecv = 0;
  }

  /* --- listeners --- */

  /* on(name, fn) or on({name: fn, ...}). Adding the same fn twice to one
   * name keeps one. Lists are copied on change, so a dispatch that is
   * running keeps the list it started with. */
  CometEngine.prototype.on = function (name, fn) {
    if (isObject(name)) {
      for (var n in name) this.on(n, name[n]);
      return this;
    }
    if (typeof fn !== 'function') return this;
    var list = this._listeners[name] || [];
    if (list.indexOf(fn) === -1) this._listeners[name] = list.concat([fn]);
    return this;
  };
  CometEngine.prototype.addListener = CometEngine.prototype.on;

  CometEngine.prototype.removeListener = function (name, fn) {
    if (isObject(name)) {
      for (var n in name) this.removeListener(n, name[n]);
      return this;
    }
    var list = this._listeners[name];
    if (!list) return this;
    var rest = fn === undefined ? [] :
      list.filter(function (f) { return f !== fn; });
    if (rest.length) this._listeners[name] = rest;
    else delete this._listeners[name];
    return this;
  };
  CometEngine.prototype.un = CometEngine.prototype.removeListener;

  /* A listener that throws is logged and does not stop the others. */
  CometEngine.prototype.fire = function (name) {
    var list = this._listeners[name];
    if (!list) return;
    var args = Array.prototype.slice.call(arguments, 1);
    for (var i = 0; i < list.length; i++) {
      try {
        list[i].apply(this, args);
      } catch (e) {
        warn('listener of "' + name + '" threw', e);
      }
    }
  };

  /* --- public API --- */

  /* Starts connecting to url (the CometServlet mapping, e.g. 'conn').
   * param (object or query string) goes along with the handshake, where a
   * BeforeConnectListener can read it. Ignored while already started. */
  CometEngine.prototype.start = function (url, param) {
    if (this._state !== 'stopped') return this;
    url = url || this.connector.url;
    if (!url) throw new Error('comet4j: start(url) needs the url of CometServlet');
    this.connector.url = url;
    if (param !== undefined) this.connector.param = toQuery(param);
    this._failures = 0;
    this._connect();
    return this;
  };

  /* Closes the connection and cancels any reconnect. Fires 'stop' with
   * cause (default 'stop') if the engine was started. */
  CometEngine.prototype.stop = function (cause) {
    if (this._state === 'stopped') return this;
    var cId = this.connector.cId;
    this._cleanup();
    this._state = 'stopped';
    this.fire('stop', cause === undefined ? 'stop' : cause, cId,
              this.connector.url, this);
    return this;
  };

  CometEngine.prototype.getId = function () { return this.connector.cId; };
  CometEngine.prototype.getConnector = function () { return this.connector; };

  /* --- one attempt: handshake, attach, open --- */

  CometEngine.prototype._connect = function () {
    var self = this;
    var id = ++this._attempt;
    this._state = 'connecting';
    var url = appendQuery(appendQuery(this.connector.url, 'cmd=conn'),
                          this.connector.param);
    this._setTimer(this.options.handshakeTimeout, function () {
      self._fail(id, 'timeout');
    });
    this._http = request('GET', url, null, function (status, text) {
      if (id !== self._attempt) return;
      self._http = null;
      if (status === 403) return self._fail(id, 'refused', false);
      if (status === 0) return self._fail(id, 'error');
      if (status !== 200) return self._fail(id, 'http:' + status);
      var hs = Protocol.decodeHandshake(text);
      if (!hs) return self._fail(id, 'error');
      self._attach(id, hs);
    });
  };

  CometEngine.prototype._attach = function (id, hs) {
    var self = this;
    var Transport = TRANSPORTS[hs.workStyle] || WebSocketTransport;
    this.connector.cId = hs.cId;
    this.connector.channels = hs.channels;
    this.connector.workStyle = Transport.workStyle;
    this._heartbeat = hs.heartbeat;
    this._setTimer(this.options.openTimeout, function () {
      self._fail(id, 'timeout');
    });
    /* Every callback checks the attempt id: a transport that belonged to an
     * earlier attempt may still report, and must change nothing. */
    this._transport = new Transport({
      onOpen: function () {},
      onFrame: function (text) {
        if (id === self._attempt) self._onFrame(id, text);
      },
      onClose: function (code) {
        if (id !== self._attempt) return;
        self._fail(id, 'closed:' + code, !NO_RETRY_CODES[code]);
      }
    }, this.options.WebSocket);
    /* XXX: random choice among several endpoints comes with fallbacks. */
    this._transport.open(hs.endpoints[0], hs.ticket);
  };

  CometEngine.prototype._onFrame = function (id, text) {
    this._lastRecv = Date.now();
    var f = Protocol.decode(text);
    if (!f) {
      warn('dropped a malformed frame', text);
      return;
    }
    if (f.t === 'open') {
      if (this._state !== 'connecting') return;
      this._opened(id, f);
    } else if (f.t === 'msg') {
      if (this._state === 'open') this.fire(f.ch, f.data, f.time, this);
    }
    /* 'pong' and frame types this version does not know: nothing to do
     * beyond the liveness stamp above. */
  };

  CometEngine.prototype._opened = function (id, f) {
    var self = this;
    this._clearTimer();
    this._state = 'open';
    this._failures = 0;
    if (typeof f.cId === 'string' && f.cId) this.connector.cId = f.cId;
    if (Array.isArray(f.channels)) this.connector.channels = f.channels;
    this.running = this.connector.running = true;
    /* Pings keep proxies and NATs from idling the socket out, and the
     * pongs prove the server is still there: two heartbeats of silence
     * mean the connection is dead even if no close ever arrives. */
    var beat = this._heartbeat;
    if (beat > 0) {
      this._beat = setInterval(function () {
        if (id !== self._attempt) return;
        if (Date.now() - self._lastRecv > 2 * beat) {
          self._fail(id, 'timeout');
          return;
        }
        self._transport.send(Protocol.encode(Protocol.ping()));
      }, beat);
    }
    this.fire('start', this.connector.cId, this.connector.channels, this);
  };

  /* Ends attempt id with cause; reconnects later unless retry === false. */
  CometEngine.prototype._fail = function (id, cause, retry) {
    if (id !== this._attempt || this._state === 'stopped') return;
    var cId = this.connector.cId;
    this._cleanup();
    if (retry === false) {
      this._state = 'stopped';
    } else {
      /* Set up the retry before firing, so a 'stop' listener that calls
       * stop() cancels it. */
      var self = this;
      this._state = 'waiting';
      this._setTimer(this._retryDelay(this._failures++), function () {
        self._connect();
      });
    }
    this.fire('stop', cause, cId, this.connector.url, this);
  };

  /* Capped doubling with jitter in [delay/2, delay], so pages dropped by
   * the same server restart do not all come back in the same millisecond.
   * XXX: full exponential backoff with jitter comes in the next issue. */
  CometEngine.prototype._retryDelay = function (n) {
    var d = Math.min(this.options.retryMax,
                     this.options.retryMin * Math.pow(2, Math.min(n, 16)));
    return Math.round(d / 2 + Math.random() * d / 2);
  };

  /* Forgets the current attempt: its late callbacks become no-ops. */
  CometEngine.prototype._cleanup = function () {
    this._attempt++;
    this._clearTimer();
    if (this._beat) clearInterval(this._beat);
    this._beat = null;
    if (this._http) this._http.abort();
    this._http = null;
    if (this._transport) this._transport.close();
    this._transport = null;
    this.running = this.connector.running = false;
    this.connector.cId = '';
    this.connector.channels = [];
    this.connector.workStyle = '';
  };

  CometEngine.prototype._setTimer = function (ms, fn) {
    this._clearTimer();
    this._timer = setTimeout(fn, ms);
  };
  CometEngine.prototype._clearTimer = function () {
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
  };

  JS.Protocol = Protocol;
  JS.Transports = TRANSPORTS;
  JS.CometEngine = CometEngine;
  JS.Engine = new CometEngine();
  return JS;
}));
