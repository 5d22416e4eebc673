/*
 * comet4j.js: the page client of comet4j-native, with Comet4J's page API.
 *
 * No dependencies. Load it with a plain <script> (it defines the global JS,
 * with JS.Engine), or require/import it where module.exports exists. js/ is
 * the npm package comet4j-native: comet4j.mjs, its ES module entry, imports
 * this file; comet4j.d.ts declares this API for TypeScript.
 *
 *   JS.Engine.on('clock', function (data, time, engine) { ... });
 *   JS.Engine.on({ start: fn, stop: fn });
 *   JS.Engine.start('conn');               // or start('conn', {room: 7})
 *   JS.Engine.on('recovered', function (recovered, channel, engine, lost) {
 *     if (!recovered) reloadStateOf(channel);   // messages were lost
 *   });                                         // (lost: how many, when known)
 *
 * Transports: WebSocket, else streaming (SSE), else long-polling, chosen
 * by itself; the server's Comet.WorkStyle or the page forces one:
 *   JS.Engine.start('conn', param, { workStyle: 'lpool' });
 *   JS.Engine.getConnector().workStyle     // the one in use
 * Reconnecting (Comet4J's AutoReconnect plugin, built in): on by default,
 * with exponential backoff and full jitter, resuming where the page was
 * (no message missed or repeated while the server's history covers the gap):
 *   JS.Engine.autoReconnect = false;       // switch it off
 *   JS.Engine.config({ retryMin: 500, retryMax: 10000 });   // ms
 * Talking back (docs/protocol.md, section 7), each call returns a Promise
 * (this part needs Promise: every current browser and node have it):
 *   JS.Engine.subscribe('room.7').then(...)      // and unsubscribe(ch)
 *   JS.Engine.publish('board', { text: 'hi' })   // a client-writable channel
 *   JS.Engine.publish('bytes', new Uint8Array([1, 2]))   // bytes: section 11
 * Messages of bytes (docs/protocol.md section 11) reach the channel's
 * listeners as a Uint8Array, on every transport (a binary frame on
 * WebSocket, base64 in the frame on SSE and long-poll):
 *   JS.Engine.on('bytes', function (data) { data instanceof Uint8Array; });
 *   JS.Engine.request('time.now', params).then(function (result) { ... },
 *     function (err) { err.code; err.message; });  // 4040, 4080, 1006...
 *   err.code === JS.CODES.TIMEOUT                // the codes have names
 *   JS.Engine.on('join', function (channel, user, cId) { ... });  // presence
 * Several nodes (docs/protocol.md, section 9): the page attaches to one of
 * the handshake's nodes at random, and after a failure to another one;
 * a URL may hold {workerIndex}, one node per worker:
 *   JS.Engine.start('conn', param, { workers: 4 });   // overrides the server's
 * Every option is listed above the engine, below.
 *
 * Comet4J 0.1.7's whole page API is here too, under its names (a page
 * that loaded comet4j-0.1.7.js runs on this file): JS.Connector alone,
 *   var conn = new JS.Connector({ url: 'conn' });
 *   conn.on({ connect: function (cId, channels, workStyle, timeout, conn) {},
 *             message: function (channel, data, time, conn) {},
 *             stop: function (cause, cId, url, conn) {} });
 *   conn.start();
 * JS.Engine.getConnector() (the engine's own JS.Connector, with the same
 * events), JS.Observable, JS.Event, JS.Listener, JS.DelayedTask,
 * JS.XMLHttpRequest, JS.AJAX (get, post, getText, getJson), JS.HTTPStatus,
 * JS.Runtime and the JS.is* flags, JS.ns, JS.apply, JS.override,
 * JS.extend, JS.callBack, JS.isEmpty and the other type tests (js/README.md
 * lists them, with where this file differs from Comet4J on purpose).
 *
 * The file reads top to bottom: small helpers (with Comet4J's utilities,
 * events and XMLHttpRequest) and the one table of codes
 * (CODES), the transports (WebSocket, stream, lpool: one interface), the
 * protocol codec (docs/protocol.md, sections 1-7), then the engine: its
 * parts (Subscription records in a SubscriptionTable, Commands, the
 * NodePicker), each owning one piece of its state, CometEngine, which
 * decides when things happen, and JS.Connector, its face in Comet4J's
 * terms.
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

  /* Binary data (docs/protocol.md section 11): an ArrayBuffer or any view
   * of one (a typed array, a DataView) is bytes, as a Uint8Array over the
   * same memory; anything else is not (null). */
  function asBytes(v) {
    if (typeof root.ArrayBuffer !== 'function' || v == null) return null;
    if (v instanceof root.ArrayBuffer) return new root.Uint8Array(v);
    if (root.ArrayBuffer.isView && root.ArrayBuffer.isView(v)) {
      return new root.Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    }
    return null;
  }

  /* Standard base64 with padding (RFC 4648 section 4), written here: atob
   * and btoa work on strings of Latin-1 and are missing in old runtimes. */
  var B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  var B64_VALUE = (function () {
    var v = {};
    for (var i = 0; i < B64.length; i++) v[B64.charAt(i)] = i;
    return v;
  }());

  function base64Encode(bytes) {
    var out = [];
    for (var i = 0; i < bytes.length; i += 3) {
      var n = bytes.length - i;
      var w = bytes[i] << 16 | (n > 1 ? bytes[i + 1] << 8 : 0) |
              (n > 2 ? bytes[i + 2] : 0);
      out.push(B64.charAt(w >> 18 & 63) + B64.charAt(w >> 12 & 63) +
               (n > 1 ? B64.charAt(w >> 6 & 63) : '=') +
               (n > 2 ? B64.charAt(w & 63) : '='));
    }
    return out.join('');
  }

  /* The bytes of a base64 text as a Uint8Array, or null when it is not
   * base64 (its length not a multiple of 4, a character outside the
   * alphabet, padding anywhere but at the end). */
  function base64Decode(text) {
    if (typeof text !== 'string' || text.length % 4 !== 0) return null;
    var pad = text.slice(-2) === '==' ? 2 : text.slice(-1) === '=' ? 1 : 0;
    var out = new root.Uint8Array(text.length / 4 * 3 - pad);
    var at = 0;
    for (var i = 0; i < text.length; i += 4) {
      var w = 0;
      for (var k = 0; k < 4; k++) {
        var c = text.charAt(i + k);
        var v = B64_VALUE[c];
        if (v === undefined) {
          if (c !== '=' || i + 4 < text.length || k < 4 - pad) return null;
          v = 0;
        }
        w = w << 6 | v;
      }
      if (at < out.length) out[at++] = w >> 16 & 255;
      if (at < out.length) out[at++] = w >> 8 & 255;
      if (at < out.length) out[at++] = w & 255;
    }
    return out;
  }

  /* UTF-8 of a string, and back (the JSON head of a binary message),
   * with TextEncoder/TextDecoder where the runtime has them. */
  function utf8Encode(text) {
    if (typeof root.TextEncoder === 'function') {
      return new root.TextEncoder().encode(text);
    }
    var bin = unescape(encodeURIComponent(text));
    var out = new root.Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function utf8Decode(bytes) {
    if (typeof root.TextDecoder === 'function') {
      return new root.TextDecoder('utf-8', { fatal: true }).decode(bytes);
    }
    var bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return decodeURIComponent(escape(bin));
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

  /* The code of an error answer {"error":{"code":N,"message":...}}, or 0. */
  function errorCode(text) {
    try {
      var j = JSON.parse(text);
      return j && j.error && typeof j.error.code === 'number' ? j.error.code : 0;
    } catch (e) {
      return 0;
    }
  }

  var FORM_TYPE = 'application/x-www-form-urlencoded; charset=UTF-8';

  /* One HTTP request; done(status, text, xhr) runs exactly once, with status
   * 0 on a network error or after opts.timeout ms. XMLHttpRequest where it
   * exists (pages, and the AJAX callbacks get the real xhr), fetch
   * otherwise (workers, node). opts: type (Content-Type of the body, form
   * by default), credentials (false for the native port: the ticket is the
   * credential, and the port's CORS answer does not allow cookies),
   * timeout (ms), sync (true: a synchronous XMLHttpRequest, for Comet4J's
   * JS.AJAX calls with asyn false; where there is none, it stays
   * asynchronous). Cookies go along by default so the handshake runs in the
   * page's session. Returns {abort}; an aborted request never calls done. */
  function request(method, url, body, done, opts) {
    opts = opts || {};
    var finished = false;
    var timer = null;
    var abort;
    function finish(status, text, xhr) {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      done(status, text, xhr);
    }
    var type = opts.type || FORM_TYPE;
    var creds = opts.credentials !== false;
    if (typeof root.XMLHttpRequest === 'function' ||
        typeof root.XMLHttpRequest === 'object') {
      var xhr = new root.XMLHttpRequest();
      xhr.open(method, url, !opts.sync);
      /* A synchronous request is same-origin: some browsers refuse
       * withCredentials on one. */
      if (!opts.sync) xhr.withCredentials = creds;
      if (body != null) xhr.setRequestHeader('Content-Type', type);
      xhr.onreadystatechange = function () {
        if (xhr.readyState === 4) finish(xhr.status, xhr.responseText, xhr);
      };
      try {
        xhr.send(body == null ? null : body);
      } catch (e) {
        /* A request that cannot be sent throws; a synchronous one does on
         * a network error. */
        finish(0, '', xhr);
      }
      /* Not every browser fires readystatechange for a synchronous
       * request; finish runs once either way. */
      if (opts.sync && xhr.readyState === 4) {
        finish(xhr.status, xhr.responseText, xhr);
      }
      abort = function () {
        try { xhr.abort(); } catch (e) { /* already done */ }
      };
    } else {
      var ctrl = typeof root.AbortController === 'function' ?
        new root.AbortController() : null;
      var init = { method: method, credentials: creds ? 'include' : 'omit',
                   cache: 'no-store' };
      if (ctrl) init.signal = ctrl.signal;
      if (body != null) {
        init.body = body;
        init.headers = { 'Content-Type': type };
      }
      root.fetch(url, init).then(function (res) {
        return res.text().then(function (text) {
          finish(res.status, text, {
            status: res.status, statusText: res.statusText || '',
            responseText: text,
            getResponseHeader: function (name) { return res.headers.get(name); }
          });
        });
      }).catch(function () {
        finish(0, '', { status: 0, responseText: '' });
      });
      abort = function () { if (ctrl) ctrl.abort(); };
    }
    if (opts.timeout > 0) {
      timer = setTimeout(function () {
        timer = null;
        abort();
        finish(0, '', { status: 0, responseText: '', timedOut: true });
      }, opts.timeout);
    }
    return { abort: function () {
      if (timer) clearTimeout(timer);
      timer = null;
      finished = true;
      abort();
    } };
  }

  /* --- XMLHttpRequest over fetch ---
   * Where there is no XMLHttpRequest (node, workers) but fetch, so that
   * JS.XMLHttpRequest and JS.AJAX (Comet4J's, which speak XMLHttpRequest)
   * work there too. Asynchronous only. readyState goes 1 (open), 2 (the
   * status and headers), 3 (each chunk of the body), 4 (done; status 0
   * after a network error or an abort), each step with onreadystatechange,
   * as a browser's does. */
  function FetchXHR() {
    this.readyState = 0;
    this.status = 0;
    this.statusText = '';
    this.responseText = '';
    this.responseXML = null;
    this.withCredentials = false;
    this.onreadystatechange = null;
    this._method = 'GET';
    this._url = '';
    this._headers = {};
    this._res = null;
    this._ctrl = null;
    this._gen = 0;         /* the request in flight; older callbacks return */
  }

  FetchXHR.prototype._step = function (readyState) {
    this.readyState = readyState;
    if (typeof this.onreadystatechange === 'function') this.onreadystatechange();
  };

  FetchXHR.prototype.open = function (method, url) {
    this._stop();
    this._method = String(method || 'GET').toUpperCase();
    this._url = String(url);
    this._headers = {};
    this._res = null;
    this.status = 0;
    this.statusText = '';
    this.responseText = '';
    this._step(1);
  };

  FetchXHR.prototype.setRequestHeader = function (name, value) {
    this._headers[name] = String(value);
  };

  FetchXHR.prototype.send = function (body) {
    var self = this;
    var gen = ++this._gen;
    var ctrl = typeof root.AbortController === 'function' ?
      new root.AbortController() : null;
    this._ctrl = ctrl;
    var init = { method: this._method, headers: this._headers, cache: 'no-store',
                 credentials: this.withCredentials ? 'include' : 'same-origin' };
    if (ctrl) init.signal = ctrl.signal;
    if (body != null && this._method !== 'GET' && this._method !== 'HEAD') {
      init.body = body;
    }
    function failed() {
      if (gen !== self._gen) return;
      self._ctrl = null;
      self.status = 0;
      self.statusText = '';
      self._step(4);
    }
    root.fetch(this._url, init).then(function (res) {
      if (gen !== self._gen) return;
      self._res = res;
      self.status = res.status;
      self.statusText = res.statusText || '';
      self._step(2);
      var reader = res.body && typeof res.body.getReader === 'function' &&
                   typeof root.TextDecoder === 'function' ?
                   res.body.getReader() : null;
      if (!reader) {
        return res.text().then(function (text) {
          if (gen !== self._gen) return;
          self.responseText = text;
          self._step(3);
          self._ctrl = null;
          self._step(4);
        });
      }
      var decoder = new root.TextDecoder();
      var more = function () {
        return reader.read().then(function (r) {
          if (gen !== self._gen) return undefined;
          if (r.done) {
            self.responseText += decoder.decode();
            self._ctrl = null;
            self._step(4);
            return undefined;
          }
          self.responseText += decoder.decode(r.value, { stream: true });
          self._step(3);
          return more();
        });
      };
      return more();
    }).catch(failed);
  };

  /* Ends the request in flight without a word (open() does). */
  FetchXHR.prototype._stop = function () {
    this._gen++;
    if (this._ctrl) {
      try { this._ctrl.abort(); } catch (e) { /* already over */ }
    }
    this._ctrl = null;
  };

  /* As a browser's: a request in flight ends with readyState 4 and status
   * 0 (one readystatechange), then the object is back to 0, unsent. */
  FetchXHR.prototype.abort = function () {
    var busy = this._ctrl !== null;
    this._stop();
    if (busy) {
      this.status = 0;
      this.statusText = '';
      this._step(4);
    }
    this.readyState = 0;
  };

  FetchXHR.prototype.getResponseHeader = function (name) {
    return this._res ? this._res.headers.get(name) : null;
  };

  FetchXHR.prototype.getAllResponseHeaders = function () {
    var out = '';
    if (this._res) {
      this._res.headers.forEach(function (value, name) {
        out += name + ': ' + value + '\r\n';
      });
    }
    return out;
  };

  /* ---------------------------------------------------------------------
   * Comet4J's page API
   *
   * Comet4J 0.1.7's page client (comet4j-0.1.7.js: JS.js, Observable.js,
   * XMLHttpRequest.js, AJAX.js; Connector.js and Engine.js are below the
   * engine) under the same names, with the same arguments and events, so
   * that a page written for it runs on this file. Written anew from what
   * Comet4J's sources and documentation say each name does; where this
   * file does something else on purpose, the comment says so. They know
   * nothing of the protocol, and the engine below uses JS.Observable's
   * names for its listeners.
   * ------------------------------------------------------------------- */

  /* --- JS.Runtime: the browser, read from the user agent once ---
   * Comet4J's flags and rules (isSafari: not Chrome; isGecko: not WebKit;
   * isIE: not Opera), except isIE6, which Comet4J set for every IE that
   * was not 7 or 8 (so IE 9 and 10 too): here it means MSIE 6. */
  var RUNTIME_FLAGS = ['isOpera', 'isFirefox', 'isChrome', 'isWebKit',
    'isSafari', 'isSafari2', 'isSafari3', 'isSafari4', 'isIE', 'isIE7',
    'isIE8', 'isIE6', 'isGecko', 'isGecko2', 'isGecko3', 'isWindows', 'isMac',
    'isAir', 'isLinux'];

  function runtimeOf(userAgent) {
    var ua = String(userAgent || '').toLowerCase();
    function has(re) { return re.test(ua); }
    var r = {};
    r.isOpera = has(/opera/);
    r.isFirefox = has(/firefox/);
    r.isChrome = has(/chrome/);
    r.isWebKit = has(/webkit/);
    r.isSafari = !r.isChrome && has(/safari/);
    r.isSafari2 = r.isSafari && has(/applewebkit\/4/);
    r.isSafari3 = r.isSafari && has(/version\/3/);
    r.isSafari4 = r.isSafari && has(/version\/4/);
    r.isIE = !r.isOpera && has(/msie/);
    r.isIE7 = r.isIE && has(/msie 7/);
    r.isIE8 = r.isIE && has(/msie 8/);
    r.isIE6 = r.isIE && has(/msie 6/);
    r.isGecko = !r.isWebKit && has(/gecko/);
    r.isGecko2 = r.isGecko && has(/rv:1\.8/);
    r.isGecko3 = r.isGecko && has(/rv:1\.9/);
    r.isWindows = has(/windows|win32/);
    r.isMac = has(/macintosh|mac os x/);
    r.isAir = has(/adobeair/);
    r.isLinux = has(/linux/);
    return r;
  }

  var Runtime = runtimeOf(root.navigator && root.navigator.userAgent);
  JS.Runtime = Runtime;
  RUNTIME_FLAGS.forEach(function (flag) { JS[flag] = Runtime[flag]; });

  /* --- JS.Syntax: the language helpers, also as JS.apply, JS.ns... --- */

  var toStr = Object.prototype.toString;
  var hasOwn = Object.prototype.hasOwnProperty;

  var Syntax = {
    /* console.log(str) where there is a console. */
    log: function (str) {
      var c = root && root.console;
      if (c && typeof c.log === 'function') c.log(str);
    },

    /* nameSpace('a.b.c', ...): makes each dotted path of objects, from the
     * global object (a path that starts with JS starts from this JS), keeps
     * what exists, and returns the last object made or found. Comet4J made
     * every segment a global of its own (window.a, window.b, window.c);
     * this makes the nested objects the path names. */
    nameSpace: function () {
      var last;
      for (var i = 0; i < arguments.length; i++) {
        var name = arguments[i];
        if (!name || typeof name !== 'string') continue;
        var parts = name.split('.');
        var o = null;
        for (var j = 0; j < parts.length; j++) {
          var p = parts[j];
          if (!p) continue;
          if (o === null) o = p === 'JS' ? JS : (root[p] = root[p] || {});
          else o = o[p] = o[p] || {};
        }
        if (o) last = o;
      }
      return last;
    },

    /* Copies the properties of c (and first those of defaults) onto o;
     * returns o. */
    apply: function (o, c, defaults) {
      if (defaults) Syntax.apply(o, defaults);
      if (o && c && typeof c === 'object') {
        for (var p in c) o[p] = c[p];
      }
      return o;
    },

    /* Copies overrides onto the prototype of cls (toString too, which
     * old IE left out of for-in). */
    override: function (cls, overrides) {
      if (!overrides) return;
      var p = cls.prototype;
      Syntax.apply(p, overrides);
      if (hasOwn.call(overrides, 'toString')) p.toString = overrides.toString;
    },

    /* Subclassing, two ways:
     *   Sub = extend(Super, overrides)   Sub is overrides.constructor if it
     *                                    has its own, else a function that
     *                                    calls Super with its arguments
     *   extend(Sub, Super, overrides)    Sub given
     * Sub.prototype inherits Super.prototype and gets overrides. Sub gets
     * superclass (Super.prototype, so Sub.superclass.constructor is Super),
     * override(o) and extend(o); its prototype gets superclass() and
     * supr() (both return Super.prototype) and override(o), which copies
     * o onto an instance. Returns Sub. */
    extend: function (sub, sup, overrides) {
      if (Syntax.isObject(sup)) {
        overrides = sup;
        sup = sub;
        sub = hasOwn.call(overrides, 'constructor') &&
              overrides.constructor !== Object ? overrides.constructor :
              function () { sup.apply(this, arguments); };
      }
      var F = function () {};
      var supp = sup.prototype;
      F.prototype = supp;
      var subp = sub.prototype = new F();
      subp.constructor = sub;
      sub.superclass = supp;
      if (supp.constructor === Object) supp.constructor = sup;
      sub.override = function (o) { Syntax.override(sub, o); };
      subp.superclass = subp.supr = function () { return supp; };
      subp.override = function (o) {
        for (var m in o) this[m] = o[m];
      };
      Syntax.override(sub, overrides);
      sub.extend = function (o) { return Syntax.extend(sub, o); };
      return sub;
    },

    /* fn.apply(scope || the global object, args || []) when fn is a
     * function; returns what it returns. */
    callBack: function (fn, scope, args) {
      if (typeof fn === 'function') return fn.apply(scope || root, args || []);
      return undefined;
    },

    /* null, undefined, an empty array, or '' (unless allowBlank). */
    isEmpty: function (v, allowBlank) {
      return v === null || v === undefined ||
             (Syntax.isArray(v) && !v.length) ||
             (!allowBlank ? v === '' : false);
    },
    isArray: function (v) { return toStr.call(v) === '[object Array]'; },
    isDate: function (v) { return toStr.call(v) === '[object Date]'; },
    isObject: function (v) {
      return !!v && toStr.call(v) === '[object Object]';
    },
    isPrimitive: function (v) {
      return Syntax.isString(v) || Syntax.isNumber(v) || Syntax.isBoolean(v);
    },
    /* typeof, so that async and generator functions count too. */
    isFunction: function (v) { return typeof v === 'function'; },
    isNumber: function (v) { return typeof v === 'number' && isFinite(v); },
    isString: function (v) { return typeof v === 'string'; },
    isBoolean: function (v) { return typeof v === 'boolean'; },
    isElement: function (v) { return !!v && !!v.tagName; },
    isDefined: function (v) { return typeof v !== 'undefined'; },

    /* An array of a[i..j) for anything with a length (not a string). */
    toArray: function (a, i, j) {
      return Array.prototype.slice.call(a, i || 0, j || a.length);
    }
  };

  JS.Syntax = Syntax;
  JS.log = Syntax.log;
  JS.ns = Syntax.nameSpace;
  ['apply', 'override', 'extend', 'callBack', 'isEmpty', 'isArray', 'isDate',
   'isObject', 'isPrimitive', 'isFunction', 'isNumber', 'isString',
   'isBoolean', 'isElement', 'isDefined', 'toArray'].forEach(function (n) {
    JS[n] = Syntax[n];
  });

  /* --- JS.DomEvent: DOM listeners, also as JS.on and JS.un ---
   * on(el, name, fn, scope): fn runs with this = scope when one is given
   * (the wrapper that does it is remembered, so un(el, name, fn) removes
   * it, which Comet4J could not do); without a scope, fn is added as it
   * is, and runs with this = el. */
  var scoped = typeof WeakMap === 'function' ? new WeakMap() : null;

  var DomEvent = {
    on: function (el, name, fn, scope) {
      var handler = fn;
      if (scope != null && typeof fn === 'function') {
        handler = function () { return fn.apply(scope, arguments); };
        if (scoped) {
          var list = scoped.get(el) || [];
          list.push({ name: name, fn: fn, scope: scope, handler: handler });
          scoped.set(el, list);
        }
      }
      if (el.addEventListener) el.addEventListener(name, handler, false);
      else if (el.attachEvent) el.attachEvent('on' + name, handler);
    },
    un: function (el, name, fn, scope) {
      var handler = fn;
      var list = scoped && scoped.get(el);
      for (var i = 0; list && i < list.length; i++) {
        var b = list[i];
        if (b.name === name && b.fn === fn &&
            (scope == null || b.scope === scope)) {
          handler = b.handler;
          list.splice(i, 1);
          break;
        }
      }
      if (el.removeEventListener) el.removeEventListener(name, handler, false);
      else if (el.detachEvent) el.detachEvent('on' + name, handler);
    },
    /* Prevents the default action and stops the event where it is. */
    stop: function (e) {
      e.returnValue = false;
      if (e.preventDefault) e.preventDefault();
      DomEvent.stopPropagation(e);
    },
    stopPropagation: function (e) {
      e.cancelBubble = true;
      if (e.stopPropagation) e.stopPropagation();
    }
  };
  JS.DomEvent = DomEvent;
  JS.on = DomEvent.on;
  JS.un = DomEvent.un;

  /* --- JS.DelayedTask: one call, later; a new delay replaces the last ---
   * new JS.DelayedTask(fn, scope, args); task.delay(ms[, fn, scope, args])
   * (the new fn, scope and args, if given, stay for later delays);
   * task.cancel(). fn runs with this = scope (the global object without
   * one). */
  function DelayedTask(fn, scope, args) {
    var self = this;
    var id = null;
    function call() {
      id = null;
      fn.apply(scope || root, args || []);
    }
    this.delay = function (ms, newFn, newScope, newArgs) {
      self.cancel();
      fn = newFn || fn;
      scope = newScope || scope;
      args = newArgs || args;
      id = setTimeout(call, ms);
    };
    this.cancel = function () {
      if (id !== null) clearTimeout(id);
      id = null;
    };
  }
  JS.DelayedTask = DelayedTask;

  /* --- JS.Observable, JS.Event, JS.Listener: Comet4J's events ---
   * An Observable keeps its events in events (lower-cased name -> true,
   * declared, or the JS.Event holding its listeners); event names are not
   * case-sensitive. new JS.Observable(config) copies config onto the
   * object; config.events (an array of names) declares events and
   * config.listeners ({name: fn}) adds listeners. fireEvent(name, args...)
   * runs the listeners in the order they were added, each with this = its
   * scope (the observable when none was given), and stops at the first
   * that returns false: it returns false then, true when every listener
   * ran, undefined when the event has no listener list. Differences from
   * Comet4J, on purpose: listeners run in the order added (Comet4J ran the
   * last added first, which its source marked as a bug to fix), a
   * listener that throws is logged and the others still run (as the
   * engine's), a dispatch keeps the list it started with, hasListener
   * answers true or false, and un is removeListener (as on the engine).
   * suspendEvents and resumeEvents do nothing, as in Comet4J, which never
   * wrote them. */
  function Observable(config) {
    Syntax.apply(this, config);
    if (this.events) this.addEvents(this.events);
    if (this.listeners) {
      var listeners = this.listeners;
      delete this.listeners;
      this.on(listeners);
    }
  }

  /* The events table, made on first use; a config's array is replaced. */
  function eventsOf(o) {
    if (!o.events || typeof o.events !== 'object' || Syntax.isArray(o.events)) {
      o.events = Object.create(null);
    }
    return o.events;
  }
  function eventKey(name) {
    return String(name).toLowerCase();
  }

  /* on(name, fn[, scope]) or on({name: fn, ...}[, scope]): Comet4J read the
   * scope of a map from the third argument, on(map, fn, scope); both work. */
  Observable.prototype.on = function (name, fn, scope, o) {
    if (typeof name === 'string') {
      this.addListener(name, fn, scope, o);
    } else if (Syntax.isObject(name)) {
      this.addListeners(name, scope != null ? scope :
                        typeof fn !== 'function' ? fn : undefined, o);
    }
  };

  /* fireEvent(name, args...) */
  Observable.prototype.fireEvent = function () {
    var e = this.events && this.events[eventKey(arguments[0])];
    if (!(e instanceof JSEvent)) return undefined;
    return e.fire.apply(e, Array.prototype.slice.call(arguments, 1));
  };

  /* Declares an event, by name or as a JS.Event; one declared already
   * stays as it is. */
  Observable.prototype.addEvent = function (name) {
    var events = eventsOf(this);
    if (typeof name === 'string') {
      if (!events[eventKey(name)]) events[eventKey(name)] = true;
    } else if (name instanceof JSEvent) {
      if (!events[name.name]) events[name.name] = name;
    }
  };

  /* addEvents(['a', 'b']) (Comet4J's), or addEvents('a', 'b'). */
  Observable.prototype.addEvents = function (names) {
    var list = Syntax.isArray(names) ? names : arguments;
    for (var i = 0; i < list.length; i++) this.addEvent(list[i]);
  };

  /* The listener is kept once per event (compared by fn); the option
   * object o is kept on it, unused, as in Comet4J. */
  Observable.prototype.addListener = function (name, fn, scope, o) {
    if (typeof fn !== 'function') return;
    var key = eventKey(name);
    this.addEvent(key);
    var e = this.events[key];
    if (e === true) e = this.events[key] = new JSEvent(key, this);
    e.addListener(fn, scope, o);
  };

  Observable.prototype.addListeners = function (map, scope, o) {
    if (!Syntax.isObject(map)) return;
    for (var name in map) this.addListener(name, map[name], scope, o);
  };

  /* Without fn: every listener of the event. */
  Observable.prototype.removeListener = function (name, fn, scope) {
    var e = this.events && this.events[eventKey(name)];
    if (!(e instanceof JSEvent)) return;
    if (fn === undefined) e.clearListeners();
    else e.removeListener(fn, scope);
  };
  Observable.prototype.un = Observable.prototype.removeListener;

  /* Removes every listener; the events stay declared. */
  Observable.prototype.clearListeners = function () {
    var events = this.events || {};
    for (var name in events) {
      if (events[name] instanceof JSEvent) events[name].clearListeners();
    }
  };

  Observable.prototype.clearEvents = function () {
    this.clearListeners();
    this.events = Object.create(null);
  };

  Observable.prototype.removeEvent = function (name) {
    var events = this.events;
    var key = eventKey(name);
    if (!events || !events[key]) return;
    if (events[key] instanceof JSEvent) events[key].clearListeners();
    delete events[key];
  };

  /* removeEvents(name) or removeEvents([names]). */
  Observable.prototype.removeEvents = function (names) {
    if (typeof names === 'string') {
      this.removeEvent(names);
    } else if (Syntax.isArray(names)) {
      for (var i = 0; i < names.length; i++) this.removeEvent(names[i]);
    }
  };

  Observable.prototype.hasEvent = function (name) {
    return !!(this.events && this.events[eventKey(name)]);
  };

  Observable.prototype.hasListener = function (name, fn, scope) {
    var e = this.events && this.events[eventKey(name)];
    return e instanceof JSEvent && e.hasListener(fn, scope) !== -1;
  };

  Observable.prototype.suspendEvents = function () {};
  Observable.prototype.resumeEvents = function () {};

  JS.Observable = Observable;

  /* One event of an Observable (its caller) and its listeners, in the
   * order they were added. */
  function JSEvent(name, caller) {
    this.name = eventKey(name);
    this.caller = caller;
    this.listeners = [];
  }

  /* Runs the listeners with its arguments; false as soon as one returns
   * false (the rest do not run), else true. */
  JSEvent.prototype.fire = function () {
    var list = this.listeners.slice();
    for (var i = 0; i < list.length; i++) {
      var r;
      try {
        r = list[i].execute.apply(list[i], arguments);
      } catch (e) {
        warn('listener of "' + this.name + '" threw', e);
        continue;
      }
      if (r === false) return false;
    }
    return true;
  };

  /* scope: this for fn (the caller by default). fn is added once. */
  JSEvent.prototype.addListener = function (fn, scope, o) {
    if (this.hasListener(fn, scope) === -1) {
      this.listeners.push(new Listener(fn, scope || this.caller, o));
    }
  };

  JSEvent.prototype.removeListener = function (fn, scope) {
    var i = this.hasListener(fn, scope);
    if (i !== -1) this.listeners.splice(i, 1);
  };

  /* The index of fn's listener, or -1 (listeners are compared by fn). */
  JSEvent.prototype.hasListener = function (fn, scope) {
    for (var i = 0; i < this.listeners.length; i++) {
      if (this.listeners[i].equal(fn, scope)) return i;
    }
    return -1;
  };

  /* A listener cleared during a dispatch does not run. */
  JSEvent.prototype.clearListeners = function () {
    for (var i = 0; i < this.listeners.length; i++) this.listeners[i].clear();
    this.listeners = [];
  };

  JS.Event = JSEvent;

  /* One listener: fn with its scope, and Comet4J's unused option object. */
  function Listener(fn, scope, o) {
    this.handler = fn;
    this.scope = scope;
    this.o = o;
  }
  Listener.prototype.execute = function () {
    return Syntax.callBack(this.handler, this.scope, arguments);
  };
  Listener.prototype.equal = function (fn, scope) {
    return this.handler === fn;
  };
  Listener.prototype.clear = function () {
    delete this.handler;
    delete this.scope;
    delete this.o;
  };

  JS.Listener = Listener;

  /* --- JS.HTTPStatus: RFC 2616's reason phrases, and six names --- */
  JS.HTTPStatus = {
    100: 'Continue', 101: 'Switching Protocols',
    200: 'OK', 201: 'Created', 202: 'Accepted',
    203: 'Non-Authoritative Information', 204: 'No Content',
    205: 'Reset Content', 206: 'Partial Content',
    300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found',
    303: 'See Other', 304: 'Not Modified', 305: 'Use Proxy', 306: 'Unused',
    307: 'Temporary Redirect',
    400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required',
    403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
    406: 'Not Acceptable', 407: 'Proxy Authentication Required',
    408: 'Request Timeout', 409: 'Conflict', 410: 'Gone',
    411: 'Length Required', 412: 'Precondition Failed',
    413: 'Request Entity Too Large', 414: 'Request-URI Too Long',
    415: 'Unsupported Media Type', 416: 'Requested Range Not Satisfiable',
    417: 'Expectation Failed',
    500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
    503: 'Service Unavailable', 504: 'Gateway Timeout',
    505: 'HTTP Version Not Supported',
    OK: 200, BADREQUEST: 400, FORBIDDEN: 403, NOTFOUND: 404, TIMEOUT: 408,
    SERVERERROR: 500
  };

  /* --- JS.XMLHttpRequest: an XMLHttpRequest with events ---
   * The standard's members (open, send, abort, setRequestHeader,
   * getResponseHeader, getAllResponseHeaders, onreadystatechange,
   * readyState, status, statusText, responseText, responseXML) over the
   * browser's XMLHttpRequest (or specialXHR: an ActiveX name or an object
   * to use instead; FetchXHR above where there is neither), and events:
   *   readyStateChange (readyState, status, xhr, realXhr)  every change
   *   progress (xhr, realXhr)  readyState 3 with a 2xx status
   *   load (xhr, realXhr)      done with a 2xx status
   *   error (xhr, realXhr)     done with status 0 (network error, abort)
   *                            or >= 400 (but 408)
   *   timeout (xhr, realXhr)   done with 408, or no change for timeout ms
   *                            (the request goes on: abort it if need be)
   *   abort (xhr, realXhr)     abort() was called
   * Config: enableCache (false: open adds ram=<random> to the URL),
   * timeout (ms, 30000; 0 for none), specialXHR. open's async is true
   * unless it is false (Comet4J passed undefined on, which browsers take
   * as false: a synchronous request). */
  var XHR = Syntax.extend(Observable, {
    enableCache: false,
    timeout: 30000,
    isAbort: false,
    specialXHR: '',
    _xhr: null,
    readyState: 0,
    status: 0,
    statusText: '',
    responseText: '',
    responseXML: null,
    timeoutTask: null,

    constructor: function () {
      var self = this;
      this.addEvents(['readyStateChange', 'timeout', 'abort', 'error', 'load',
                      'progress']);
      XHR.superclass.constructor.apply(this, arguments);
      this._xhr = this.createXmlHttpRequestObject();
      if (this._xhr) {
        this._xhr.onreadystatechange = function () { self.doReadyStateChange(); };
      }
    },

    /* Restarts the timeout from now. */
    delayTimeout: function () {
      if (!this.timeout) return;
      if (!this.timeoutTask) {
        this.timeoutTask = new DelayedTask(function () {
          if (this._xhr.readyState !== 4) this.fireEvent('timeout', this, this._xhr);
          else this.cancelTimeout();
        }, this);
      }
      this.timeoutTask.delay(this.timeout);
    },

    cancelTimeout: function () {
      if (this.timeoutTask) this.timeoutTask.cancel();
    },

    /* The request object underneath, or null where none can be made. */
    createXmlHttpRequestObject: function () {
      var special = this.specialXHR;
      if (special && typeof special !== 'string') return special;
      if (special && root.ActiveXObject) return new root.ActiveXObject(special);
      if (typeof root.XMLHttpRequest === 'function' ||
          typeof root.XMLHttpRequest === 'object') {
        try { return new root.XMLHttpRequest(); } catch (e) { /* below */ }
      }
      var names = ['Msxml2.XMLHTTP.6.0', 'Msxml2.XMLHTTP.3.0', 'Msxml2.XMLHTTP',
                   'Microsoft.XMLHTTP'];
      for (var i = 0; root.ActiveXObject && i < names.length; i++) {
        try { return new root.ActiveXObject(names[i]); } catch (e) { /* next */ }
      }
      return typeof root.fetch === 'function' ? new FetchXHR() : null;
    },

    /* Copies the request's state, then fires the events it means. */
    doReadyStateChange: function () {
      this.delayTimeout();
      var xhr = this._xhr;
      var self = this;
      function read(name, fallback) {
        try {
          self[name] = xhr[name];
        } catch (e) {
          self[name] = fallback;
        }
        if (self[name] === undefined) self[name] = fallback;
      }
      read('readyState', 0);
      read('status', 0);
      read('statusText', '');
      read('responseText', '');
      read('responseXML', null);
      this.fireEvent('readyStateChange', this.readyState, this.status, this, xhr);
      var status = this.status;
      if (this.readyState === 3 && status >= 200 && status < 300) {
        this.fireEvent('progress', this, xhr);
      }
      if (this.readyState === 4) {
        this.cancelTimeout();
        if (!status) this.fireEvent('error', this, xhr);
        else if (status >= 200 && status < 300) this.fireEvent('load', this, xhr);
        else if (status === 408) this.fireEvent('timeout', this, xhr);
        else if (status >= 400) this.fireEvent('error', this, xhr);
      }
      this.onreadystatechange();
    },

    /* The standard's handler, for a page that sets its own. */
    onreadystatechange: function () {},

    open: function (method, url, async, username, password) {
      if (!url) return;
      if (!this.enableCache) url = appendQuery(url, 'ram=' + Math.random());
      if (username !== undefined) {
        this._xhr.open(method, url, async !== false, username, password);
      } else {
        this._xhr.open(method, url, async !== false);
      }
    },

    send: function (content) {
      this.delayTimeout();
      this.isAbort = false;
      this._xhr.send(content == null ? null : content);
    },

    abort: function () {
      this.isAbort = true;
      this.cancelTimeout();
      this._xhr.abort();
      this.fireEvent('abort', this, this._xhr);
    },

    setRequestHeader: function (header, value) {
      this._xhr.setRequestHeader(header, value);
    },
    getResponseHeader: function (header) {
      return this._xhr.getResponseHeader(header);
    },
    getAllResponseHeaders: function () {
      return this._xhr.getAllResponseHeaders();
    },
    /* The timeout, in ms. */
    setTimeout: function (ms) {
      this.timeout = ms;
    }
  });
  JS.XMLHttpRequest = XHR;

  /* --- JS.AJAX: one request, one callback ---
   * get(url, param, callback, scope, asyn) and post(...) send param (an
   * object, or an encoded query string: a=1&b=2) as the query of a GET or
   * the form body of a POST, and call callback(answer, xhr) with this =
   * scope once the answer is complete, whatever its status (the page
   * decides what a 500 means). asyn false makes it a synchronous request
   * (where XMLHttpRequest exists): the callback has run when the call
   * returns. answer serves both kinds of page: a String object of the
   * response text, which this client's pages read as a string (answer ==
   * 'ok', JSON.parse(answer), answer.indexOf...; String(answer) for ===),
   * with the fields of the request, which Comet4J's pages read as their
   * xhr (answer.responseText, answer.status, answer.getResponseHeader()).
   * Comet4J sent a GET's param as a body, which browsers drop; this puts
   * it in the query. getText(url, param, callback, scope, asyn) calls
   * back with the text (a string), getJson(...) with the parsed JSON (not
   * called back, and dataFormatError logged, if it is not JSON; Comet4J
   * ran eval on it). A url that is not a string throws urlError. */
  function answerOf(text, xhr) {
    var answer = new String(text == null ? '' : text);
    answer.responseText = String(answer);
    answer.status = (xhr && xhr.status) || 0;
    answer.statusText = (xhr && xhr.statusText) || '';
    answer.readyState = 4;
    answer.responseXML = (xhr && xhr.responseXML) || null;
    answer.getResponseHeader = function (name) {
      return xhr && typeof xhr.getResponseHeader === 'function' ?
        xhr.getResponseHeader(name) : null;
    };
    answer.getAllResponseHeaders = function () {
      return xhr && typeof xhr.getAllResponseHeaders === 'function' ?
        xhr.getAllResponseHeaders() : '';
    };
    return answer;
  }

  function ajax(method, url, param, callback, scope, asyn) {
    if (typeof url !== 'string') throw new Error(JS.AJAX.urlError);
    var query = toQuery(param);
    var get = method === 'GET';
    return request(method, get ? appendQuery(url, query) : url,
      get ? null : query, function (status, text, xhr) {
        Syntax.callBack(callback, scope, [answerOf(text, xhr), xhr]);
      }, { sync: asyn === false });
  }

  JS.AJAX = {
    dataFormatError: 'comet4j: the answer is not JSON',
    urlError: 'comet4j: no url given',
    get: function (url, param, callback, scope, asyn) {
      return ajax('GET', url, param, callback, scope, asyn);
    },
    post: function (url, param, callback, scope, asyn) {
      return ajax('POST', url, param, callback, scope, asyn);
    },
    getText: function (url, param, callback, scope, asyn) {
      return ajax('GET', url, param, function (answer) {
        Syntax.callBack(callback, scope, [String(answer)]);
      }, null, asyn);
    },
    getJson: function (url, param, callback, scope, asyn) {
      var self = this;
      return ajax('GET', url, param, function (answer) {
        var json;
        try {
          json = JSON.parse(String(answer));
        } catch (e) {
          warn(self.dataFormatError, url);
          return;
        }
        Syntax.callBack(callback, scope, [json]);
      }, null, asyn);
    }
  };

  /* --- codes ---
   * The one table of the codes this client names: WebSocket close codes
   * (RFC 6455's 1000-1014 and the protocol's 4001-4005, docs/protocol.md
   * sections 5 and 6) and command error codes (section 7), so that a code
   * means one thing everywhere in this file, and a page can compare an
   * error with a name rather than a number (err.code === JS.CODES.TIMEOUT).
   * HTTP statuses (200, 403...) are not in it: they belong to HTTP, and
   * are only read where an HTTP answer is. Frozen, as are the sets below:
   * a page that assigned to them would change what the engine does. */
  var CODES = Object.freeze({
    /* close codes */
    NORMAL: 1000,            /* a normal close; the page closes with it */
    GOING_AWAY: 1001,        /* the server is stopping */
    PROTOCOL_ERROR: 1002,    /* e.g. an unmasked client frame */
    UNSUPPORTED_DATA: 1003,  /* data the peer does not take (this server
                              * takes binary: it never sends it) */
    LOST: 1006,              /* no close frame: the network dropped, the
                              * attach was refused with an HTTP status, an
                              * HTTP transport failed; also a command
                              * whose connection was lost or never there */
    INVALID_DATA: 1007,      /* text that is not UTF-8 */
    POLICY: 1008,
    TOO_BIG: 1009,           /* over Comet.MaxFrame or Comet.MaxMessage */
    INTERNAL_ERROR: 1011,
    SERVICE_RESTART: 1012,
    TRY_AGAIN_LATER: 1013,
    BAD_GATEWAY: 1014,
    SLOW_CONSUMER: 4001,     /* the output queue passed Comet.MaxQueue */
    IDLE: 4002,              /* nothing from the page within timeout */
    DROPPED: 4003,           /* dropped by the application */
    REPLACED: 4004,          /* the same connection id attached again */
    EXPIRED: 4005,           /* dying period over (only in the DROP event) */
    /* command errors: the server's err frames, and the page's own
     * TIMEOUT and LOST */
    BAD_COMMAND: 4000,
    REFUSED: 4030,           /* a Subscribe/PublishListener said no */
    ORIGIN_REFUSED: 4033,    /* the handshake's Origin is not allowed
                              * (Comet.AllowedOrigins; HTTP 403) */
    NOT_WRITABLE: 4031,      /* channel not writable by pages */
    UNKNOWN: 4040,           /* unknown channel or route */
    TIMEOUT: 4080,           /* no answer in time (server's or page's) */
    TOO_MANY: 4290,          /* too many subscriptions */
    ACTION_FAILED: 5000,     /* the action threw, or could not be queued */
    BUSY: 5030               /* the action pool's queue is full */
  });

  /* A set of codes (code -> true) named by their CODES names, so that the
   * sets below cannot name a code the table does not have: a misspelt
   * name throws when the file loads instead of leaving a hole. */
  function codeSet(names) {
    var set = {};
    for (var i = 0; i < names.length; i++) {
      if (typeof CODES[names[i]] !== 'number') {
        throw new Error('comet4j: no code named ' + names[i]);
      }
      set[CODES[names[i]]] = true;
    }
    return Object.freeze(set);
  }

  /* Close codes after which a reconnect would be refused again, or would
   * fight the server's decision: a protocol error, binary data, bad UTF-8,
   * policy, dropped by the application, replaced by a newer attach of the
   * same id. */
  var NO_RETRY_CODES = codeSet(['PROTOCOL_ERROR', 'UNSUPPORTED_DATA',
                                'INVALID_DATA', 'POLICY', 'DROPPED',
                                'REPLACED']);

  /* Close codes that mean the loss of an open connection is the node's
   * failure rather than a normal close: no close frame (the process died,
   * the network dropped, an HTTP transport failed), the server going away
   * or restarting, an internal error or overload, a bad gateway. */
  var NODE_LOST_CODES = codeSet(['GOING_AWAY', 'LOST', 'INTERNAL_ERROR',
                                 'SERVICE_RESTART', 'TRY_AGAIN_LATER',
                                 'BAD_GATEWAY']);

  /* ---------------------------------------------------------------------
   * Transports
   *
   * A transport carries protocol frames and knows nothing of their
   * meaning. Every transport has the same shape, so the engine can try
   * them in order (websocket, stream, lpool):
   *
   *   var t = new Transport(callbacks, options)
   *       callbacks: onFrame(frame, aside)  a frame as text, or an
   *                                   already parsed object (batches);
   *                                   aside: it answered a command
   *                  onAlive()        bytes arrived that carry no frame
   *                                   (an SSE comment, an empty poll)
   *                  onClose(code, reason)
   *                  onRenew()        optional: a new request of the same
   *                                   attachment left (long-polling: every
   *                                   poll after the first)
   *   t.open(urls, ticket, since)    urls: {endpoint, cmd} of one server;
   *                                  since: a function that returns the
   *                                  encoded resume position (or ''), asked
   *                                  before every request: long-polling
   *                                  sends it on every poll, so a broadcast
   *                                  published while a poll re-attached is
   *                                  replayed, not lost
   *   t.send(text, failed)           one frame to the server (a string, or
   *                                  for a pub of bytes Protocol.encode's
   *                                  {text, bytes}: WebSocket sends bytes,
   *                                  the HTTP transports text); false if it
   *                                  cannot. The HTTP transports call
   *                                  failed(status) if the POST is not
   *                                  answered 200 (0: network error)
   *   t.close()                      closes; no callback runs after it
   *
   * onClose runs at most once, and only for a close the engine did not ask
   * for; its code is a WebSocket close code (1006 for a network error or an
   * HTTP refusal, the reason then says 'http:<status>').
   *
   * Transport.workStyle names it, Transport.supported(options) says whether
   * this environment can run it, Transport.selfWatch says that it detects a
   * dead connection by itself (long-poll: a poll not answered in time).
   * ------------------------------------------------------------------- */

  function ticketQuery(ticket, since) {
    var position = typeof since === 'function' ? since() : since;
    return 'ticket=' + encodeURIComponent(ticket) +
           (position ? '&since=' + position : '');
  }

  /* --- WebSocket --- */

  function WebSocketTransport(callbacks, options) {
    this.callbacks = callbacks;
    this.WebSocket = (options && options.WebSocket) || root.WebSocket;
    this.ws = null;
    this.closed = false;
  }
  WebSocketTransport.workStyle = 'websocket';
  WebSocketTransport.supported = function (options) {
    var W = (options && options.WebSocket) || root.WebSocket;
    return typeof W === 'function' || typeof W === 'object';
  };
  WebSocketTransport.prototype.open = function (urls, ticket, since) {
    var self = this;
    var url = appendQuery(urls.endpoint, ticketQuery(ticket, since));
    var ws;
    try {
      ws = new this.WebSocket(url);
    } catch (e) {
      /* A malformed endpoint throws synchronously; report it like any
       * other failed attempt, but asynchronously as callers expect. */
      setTimeout(function () {
        self.fail(CODES.LOST, String(e && e.message));
      }, 0);
      return;
    }
    this.ws = ws;
    /* Messages of bytes come as binary frames (docs/protocol.md section
     * 11), read as ArrayBuffers; a Blob (a runtime that cannot) is not
     * read. */
    try { ws.binaryType = 'arraybuffer'; } catch (e) { /* read-only */ }
    ws.onmessage = function (ev) {
      if (self.closed) return;
      if (typeof ev.data === 'string') {
        self.callbacks.onFrame(ev.data);
      } else {
        self.callbacks.onFrame(Protocol.decodeBinary(ev.data) ||
                               '(a binary frame that is no message)');
      }
    };
    /* Browsers fire error then close; the close carries the useful code. */
    ws.onerror = function () {};
    ws.onclose = function (ev) {
      self.fail(ev.code || CODES.LOST, ev.reason || '');
    };
  };
  WebSocketTransport.prototype.fail = function (code, reason) {
    if (this.closed) return;
    this.close();
    this.callbacks.onClose(code, reason);
  };
  WebSocketTransport.prototype.send = function (text) {
    if (this.closed || !this.ws || this.ws.readyState !== 1) return false;
    try {
      /* A frame of bytes (Protocol.encode) goes as one binary message. */
      this.ws.send(typeof text === 'string' ? text : text.bytes);
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
    ws.onopen = ws.onmessage = ws.onclose = null;
    /* Closed while still connecting, node's ws reports an error after
     * this returns: a listener must be there to take it. */
    ws.onerror = function () {};
    try { ws.close(CODES.NORMAL); } catch (e) { /* already closing */ }
  };

  /* --- commands over HTTP (stream and lpool) ---
   * POST <cmd>?ticket=T with the frame as a text/plain body: a "simple"
   * cross-origin request, so no preflight. The answer is an array of reply
   * frames, handed to onFrame like any other. */
  function postCommand(transport, text, failed) {
    if (transport.closed || !transport.cmd) return false;
    /* A frame of bytes (Protocol.encode) goes in its JSON form, "b64". */
    if (typeof text !== 'string') text = text.text;
    var req = request('POST', appendQuery(transport.cmd,
                                          ticketQuery(transport.ticket, '')),
      text, function (status, body) {
        transport.cmds.splice(transport.cmds.indexOf(req), 1);
        if (transport.closed) return;
        if (status !== 200) {
          if (failed) failed(status);
          return;
        }
        deliverBatch(transport, body, true);
      }, { type: 'text/plain;charset=UTF-8', credentials: false,
           timeout: 30000 });
    transport.cmds.push(req);
    return true;
  }

  /* A JSON array of frames; anything else is reported as one bad frame so
   * the engine logs it. A command's answer (aside) says nothing of the
   * stream or poll that carries the connection, so it is no sign of life. */
  function deliverBatch(transport, body, aside) {
    var list;
    try { list = JSON.parse(body); } catch (e) { list = null; }
    if (!Array.isArray(list)) {
      transport.callbacks.onFrame(String(body), aside);
      return;
    }
    if (!aside) transport.callbacks.onAlive();
    for (var i = 0; i < list.length && !transport.closed; i++) {
      transport.callbacks.onFrame(list[i], aside);
    }
  }

  function abortCommands(transport) {
    var cmds = transport.cmds;
    transport.cmds = [];
    for (var i = 0; i < cmds.length; i++) cmds[i].abort();
  }

  /* --- streaming: Server-Sent Events read through fetch ---
   * fetch rather than EventSource: it reports the HTTP status (401 and 503
   * are not network errors), it never reconnects behind the engine's back
   * with a ticket the engine has stopped using, and the comment lines that
   * carry the heartbeat are visible to it (EventSource swallows them, so
   * a watchdog could not tell a quiet stream from a dead one). */
  function StreamTransport(callbacks) {
    this.callbacks = callbacks;
    this.ctrl = null;
    this.reader = null;
    this.cmd = '';
    this.ticket = '';
    this.cmds = [];
    this.closed = false;
  }
  StreamTransport.workStyle = 'stream';
  StreamTransport.supported = function () {
    return typeof root.fetch === 'function' &&
           typeof root.AbortController === 'function' &&
           typeof root.TextDecoder === 'function' &&
           typeof root.ReadableStream === 'function';
  };
  StreamTransport.prototype.open = function (urls, ticket, since) {
    var self = this;
    this.cmd = urls.cmd;
    this.ticket = ticket;
    this.ctrl = new root.AbortController();
    var url = appendQuery(urls.endpoint, ticketQuery(ticket, since));
    root.fetch(url, { method: 'GET', credentials: 'omit', cache: 'no-store',
                      signal: this.ctrl.signal,
                      headers: { Accept: 'text/event-stream' } })
      .then(function (res) {
        if (self.closed) return;
        if (res.status !== 200 || !res.body) {
          self.fail(CODES.LOST, 'http:' + res.status);
          return;
        }
        self.reader = res.body.getReader();
        self.read(new root.TextDecoder(), '', []);
      }, function (e) {
        self.fail(CODES.LOST, String(e && e.message));
      });
  };
  /* Reads chunks; buf holds an unfinished line, data the data: lines of
   * the event being read. */
  StreamTransport.prototype.read = function (decoder, buf, data) {
    var self = this;
    this.reader.read().then(function (r) {
      if (self.closed) return;
      if (r.done) {
        self.fail(CODES.LOST, 'end of stream');
        return;
      }
      buf += decoder.decode(r.value, { stream: true });
      var lines = buf.split(/\r\n|\r|\n/);
      buf = lines.pop();
      var frames = 0;
      for (var i = 0; i < lines.length && !self.closed; i++) {
        var line = lines[i];
        if (line === '') {
          if (data.length) {
            frames++;
            var text = data.join('\n');
            data = [];
            self.callbacks.onFrame(text);
          }
        } else if (line.charAt(0) === ':') {
          /* a comment: the heartbeat */
        } else if (line.slice(0, 5) === 'data:') {
          data.push(line.charAt(5) === ' ' ? line.slice(6) : line.slice(5));
        }
        /* event:, id:, retry: mean nothing in this protocol */
      }
      if (self.closed) return;
      if (!frames) self.callbacks.onAlive();
      self.read(decoder, buf, data);
    }, function (e) {
      self.fail(CODES.LOST, String(e && e.message));
    });
  };
  StreamTransport.prototype.send = function (text, failed) {
    return postCommand(this, text, failed);
  };
  StreamTransport.prototype.fail = function (code, reason) {
    if (this.closed) return;
    this.close();
    this.callbacks.onClose(code, reason);
  };
  /* linger (ms, optional): the request stays open that long for the
   * server to end it (a drop asked for: the server drops the identity
   * rather than seeing its transport lost first); nothing of it is read
   * any more. */
  StreamTransport.prototype.close = function (linger) {
    var ctrl = this.ctrl;
    this.closed = true;
    abortCommands(this);
    this.ctrl = null;
    this.reader = null;
    if (ctrl) later(linger, function () {
      try { ctrl.abort(); } catch (e) { /* already over */ }
    });
  };

  /* --- long-polling ---
   * One GET at a time; each answer is a JSON array of frames (possibly
   * empty, after the server's hold), and the next poll leaves at once. The
   * resume position goes with the first poll only: later polls continue
   * the same attachment. A poll not answered within hold + heartbeat means
   * the connection is dead. */
  function PollTransport(callbacks, options) {
    this.callbacks = callbacks;
    this.timeout = (options && options.pollTimeout) || 35000;
    this.polls = 0;
    this.req = null;
    this.cmd = '';
    this.ticket = '';
    this.cmds = [];
    this.closed = false;
  }
  PollTransport.workStyle = 'lpool';
  PollTransport.selfWatch = true;
  PollTransport.supported = function () {
    return typeof root.XMLHttpRequest === 'function' ||
           typeof root.XMLHttpRequest === 'object' ||
           typeof root.fetch === 'function';
  };
  PollTransport.prototype.open = function (urls, ticket, since) {
    this.endpoint = urls.endpoint;
    this.cmd = urls.cmd;
    this.ticket = ticket;
    this.since = since;
    this.poll();
  };
  PollTransport.prototype.poll = function () {
    var self = this, since = this.since;
    this.req = request('GET',
      appendQuery(this.endpoint, ticketQuery(this.ticket, since) +
                  '&_=' + (+new Date()).toString(36)),
      null, function (status, body, xhr) {
        self.req = null;
        if (self.closed) return;
        if (status !== 200) {
          self.fail(CODES.LOST, status ? 'http:' + status :
                    xhr && xhr.timedOut ? 'poll timeout' : 'network error');
          return;
        }
        deliverBatch(self, body);
        if (!self.closed) self.poll();
      }, { credentials: false, timeout: this.timeout });
    if (++this.polls > 1 && this.callbacks.onRenew) this.callbacks.onRenew();
  };
  PollTransport.prototype.send = function (text, failed) {
    return postCommand(this, text, failed);
  };
  PollTransport.prototype.fail = StreamTransport.prototype.fail;
  PollTransport.prototype.close = function (linger) {
    var req = this.req;
    this.closed = true;
    abortCommands(this);
    this.req = null;
    if (req) later(linger, function () { req.abort(); });
  };

  /* fn now, or after ms when ms > 0 (a transport's linger). */
  function later(ms, fn) {
    var t;
    if (!(ms > 0)) return fn();
    t = setTimeout(fn, ms);
    if (t && t.unref) t.unref(); /* node: no reason to stay alive */
  }

  /* workStyle -> transport constructor, and the order of the automatic
   * fallback. */
  var TRANSPORTS = { websocket: WebSocketTransport, stream: StreamTransport,
                     lpool: PollTransport };
  var FALLBACK_ORDER = ['websocket', 'stream', 'lpool'];

  /* ---------------------------------------------------------------------
   * Protocol: JSON frames, one object per frame, type in "t"
   * (docs/protocol.md). Only encodes and decodes; the engine decides.
   * ------------------------------------------------------------------- */

  function stringList(v) {
    if (!Array.isArray(v)) return [];
    return v.filter(function (s) { return typeof s === 'string' && s; });
  }

  var Protocol = {
    VERSION: 1,

    /* The text of a frame; for a pub whose data is bytes (asBytes), an
     * object {text, bytes}: its JSON form with "b64" for the HTTP
     * transports, and the binary message for WebSocket (u16 n, the
     * command's JSON head, the bytes: docs/protocol.md section 11). */
    encode: function (frame) {
      var bytes = frame.t === 'pub' ? asBytes(frame.data) : null;
      if (!bytes) return JSON.stringify(frame);
      var head = {}, json = {};
      for (var k in frame) {
        if (!Object.prototype.hasOwnProperty.call(frame, k) || k === 'data') continue;
        head[k] = json[k] = frame[k];
      }
      json.b64 = base64Encode(bytes);
      var h = utf8Encode(JSON.stringify(head));
      var out = new root.Uint8Array(2 + h.length + bytes.length);
      out[0] = h.length >> 8 & 255;
      out[1] = h.length & 255;
      out.set(h, 2);
      out.set(bytes, 2 + h.length);
      return { text: JSON.stringify(json), bytes: out.buffer };
    },

    /* A binary frame (an ArrayBuffer) as the frame object it carries: its
     * JSON head with data, a Uint8Array of the bytes after it; null when
     * it is not one (docs/protocol.md section 11). */
    decodeBinary: function (buffer) {
      var all = asBytes(buffer);
      if (!all || all.length < 2) return null;
      var n = all[0] << 8 | all[1];
      if (n < 2 || n > all.length - 2) return null;
      var f;
      try {
        f = JSON.parse(utf8Decode(all.subarray(2, 2 + n)));
      } catch (e) {
        return null;
      }
      if (!isObject(f) || f.t !== 'msg' || 'data' in f || 'b64' in f) return null;
      f.data = all.subarray(2 + n);
      return f;
    },

    /* A frame object, or null for anything that is not a well-formed
     * frame: the engine drops those rather than dying on a server bug.
     * Takes the text of a frame, or an object already parsed from a
     * long-poll batch. */
    decode: function (text) {
      var f = text;
      if (typeof text === 'string') {
        try {
          f = JSON.parse(text);
        } catch (e) {
          return null;
        }
      }
      if (!isObject(f) || typeof f.t !== 'string') return null;
      if (f.t === 'msg' && typeof f.ch !== 'string') return null;
      /* A message of bytes on SSE or long-poll: the same listeners get a
       * Uint8Array, as from a binary frame (section 11). */
      if (f.t === 'msg' && 'b64' in f) {
        var bytes = base64Decode(f.b64);
        if (!bytes || 'data' in f) return null;
        delete f.b64;
        f.data = bytes;
      }
      if (f.t === 'recovered' && typeof f.ch !== 'string') return null;
      if ((f.t === 'join' || f.t === 'leave') && typeof f.ch !== 'string') return null;
      if ((f.t === 'ack' || f.t === 'res' || f.t === 'err') &&
          typeof f.id !== 'number') return null;
      return f;
    },

    /* The handshake answer, or null if it lacks what the engine needs (a
     * ticket and at least one URL to attach to). page: the page's
     * overrides, {endpoints, workers} (see nodeLists), if any. */
    decodeHandshake: function (text, page) {
      var h;
      try {
        h = JSON.parse(text);
      } catch (e) {
        return null;
      }
      if (!isObject(h) || typeof h.ticket !== 'string') return null;
      if (Array.isArray(h.endpoints) && h.endpoints.some(function (u) {
        return typeof u !== 'string';
      })) return null;
      var hs = {
        cId: typeof h.cId === 'string' ? h.cId : '',
        channels: Array.isArray(h.channels) ? h.channels : [],
        ticket: h.ticket,
        endpoints: stringList(h.endpoints),
        stream: stringList(h.stream),
        lpool: stringList(h.lpool),
        cmd: stringList(h.cmd),
        workStyle: typeof h.workStyle === 'string' ? h.workStyle : 'auto',
        heartbeat: h.heartbeat > 0 ? h.heartbeat : 0,
        timeout: h.timeout > 0 ? h.timeout : 0,
        connExpires: h.connExpires > 0 ? h.connExpires : 0
      };
      var lists = Protocol.nodeLists(hs, h.workers, page);
      for (var k in lists) hs[k] = lists[k];
      if (!hs.endpoints.length && !hs.stream.length && !hs.lpool.length) {
        return null;
      }
      return hs;
    },

    /* The four URL lists (endpoints, stream, lpool, cmd) the page uses,
     * one entry per node, the same index naming the same node in each:
     * the handshake's, or those derived from the page's endpoints option,
     * with {workerIndex} expanded. workers: the handshake's count; the
     * page's (page.workers) wins. */
    nodeLists: function (hs, workers, page) {
      page = page || {};
      var lists = { endpoints: hs.endpoints, stream: hs.stream,
                    lpool: hs.lpool, cmd: hs.cmd };
      var own = stringList(page.endpoints);
      if (own.length) lists = Protocol.fromEndpoints(own);
      var n = page.workers != null ? page.workers : workers;
      for (var k in lists) lists[k] = Protocol.expandWorkers(lists[k], n);
      return lists;
    },

    /* Each URL holding {workerIndex} becomes n URLs, with 0..n-1 in its
     * place (n: a whole number >= 1; anything else counts as 1, so the
     * pattern stands for worker 0). Other URLs stay as they are. */
    expandWorkers: function (urls, n) {
      n = n >= 1 ? Math.floor(n) : 1;
      var out = [];
      for (var i = 0; i < urls.length; i++) {
        var parts = urls[i].split('{workerIndex}');
        if (parts.length === 1) {
          out.push(urls[i]);
          continue;
        }
        for (var w = 0; w < n; w++) out.push(parts.join(String(w)));
      }
      return out;
    },

    /* The four lists for WebSocket URLs given by the page, built the way
     * CometServlet builds them from Comet.PublicUrl: the base of
     * ws(s)://host:port/path[/ws] is http(s)://host:port/path, and each
     * list is base + /ws (as ws: or wss:), /sse, /poll, /cmd. */
    fromEndpoints: function (urls) {
      var lists = { endpoints: [], stream: [], lpool: [], cmd: [] };
      for (var i = 0; i < urls.length; i++) {
        var base = urls[i].replace(/^ws(s?):/i, 'http$1:')
                          .replace(/\/+$/, '').replace(/\/ws$/, '');
        lists.endpoints.push(base.replace(/^http/i, 'ws') + '/ws');
        lists.stream.push(base + '/sse');
        lists.lpool.push(base + '/poll');
        lists.cmd.push(base + '/cmd');
      }
      return lists;
    },

    /* What names a node across the lists: a URL without its scheme and
     * its last path segment (ws://h:4100/ws and http://h:4100/sse are
     * the same node, h:4100). */
    nodeOf: function (url) {
      return url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
                .replace(/\/[^\/]*$/, '');
    },

    /* The URLs of one workStyle in a handshake answer. */
    urlsOf: function (hs, workStyle) {
      return workStyle === 'websocket' ? hs.endpoints : hs[workStyle] || [];
    },

    /* since: channel -> [epoch, offset], as URL-encoded JSON, or '' when
     * there is nothing to resume. */
    encodeSince: function (positions) {
      var any = false;
      for (var ch in positions) { any = true; break; }
      return any ? encodeURIComponent(JSON.stringify(positions)) : '';
    },

    /* The long-poll hold the server uses (docs/protocol.md, section 6). */
    pollHold: function (hs) {
      return hs.timeout > 0 ? Math.min(25000, hs.timeout / 2) : 25000;
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
   *   'refused:origin' the handshake answered 403 with code 4033: the page's
   *                    origin is not in Comet.AllowedOrigins. Never retried.
   *   'error'          the handshake failed on the network or its answer
   *                    was not a handshake. Retried.
   *   'http:<status>'  the handshake answered another status (404, 500..).
   *                    Retried.
   *   'timeout'        the handshake, or the server's open frame, did not
   *                    come in time, or the connection went silent (see
   *                    heartbeats below). Retried.
   *   'closed:<code>'  the connection closed with this WebSocket close code
   *                    (1006: no close frame, e.g. the attach was refused
   *                    with 401/503, the network dropped, or an HTTP
   *                    transport failed). Retried unless the code is in
   *                    NO_RETRY_CODES.
   *
   * Retries run a fresh handshake (a new ticket) that names the old
   * connection (cId=<old id>, so the server can revive it) and attach with
   * since=<position per channel>, and the 'start' event fires again once
   * open. Unlike Comet4J, listeners stay registered after 'stop': they are
   * needed again when the engine reconnects or the page starts it again.
   *
   * Other events: 'recovered' (recovered, channel, engine, lost) after a
   * reconnect, once per channel the page had a position in: recovered is
   * true if every message missed meanwhile was delivered (before this
   * event), false if some were lost (older than the server's history:
   * then lost says how many; or the server restarted): the page should
   * reload that channel's state.
   * It also comes while connected, with recovered false and lost, how many
   * messages of the channel this page will never get (a node was cut off
   * from the others' Redis longer than its bounds keep: docs/protocol.md
   * section 9); lost is undefined when the server does not know.
   *
   * 'join' and 'leave' (channel, user, cId, engine): someone's connection
   * subscribed to, or left, a channel registered with presence that this
   * page is subscribed to.
   *
   * Event names are exact (case-sensitive) channel names; 'start', 'stop',
   * 'recovered', 'join' and 'leave' are the engine's own, so no channel
   * should use them.
   *
   * Commands (docs/protocol.md, section 7): subscribe(channel),
   * unsubscribe(channel), publish(channel, data) and request(route,
   * params[, {timeout: ms}]) each return a Promise (they need Promise, as
   * every current browser and node have; without it they throw). It
   * resolves with the server's answer: undefined for the acks, the
   * action's result for request. It rejects with an Error whose code and
   * message are the server's (CODES names them: 4000 bad command, 4030
   * refused by the application, 4031 channel not writable by pages, 4040
   * unknown channel or route, 4080 timed out, 5000 the action threw, 5030
   * the action pool is full, 4290 too many subscriptions), or the page's
   * own:
   *   4080  TIMEOUT: no answer within requestTimeout ms (or the call's)
   *   1006  LOST: the connection was lost (or stop() was called) after the
   *         command was sent and before its answer, or the engine is not
   *         started: the command may or may not have been carried out
   * Commands made while the engine is (re)connecting wait for the open
   * connection. Subscriptions belong to the connection's identity on the
   * server and survive reconnects: the page does not send them again.
   *
   * Transports (getConnector().workStyle says which one is in use):
   *   'websocket'  WebSocket on the handshake's endpoints
   *   'stream'     Server-Sent Events (read with fetch) on its stream URLs
   *   'lpool'      long-polling (one GET after another) on its lpool URLs
   * Commands (the heartbeat ping) go over the WebSocket, or by POST to the
   * cmd URL. By default ('auto') the engine tries them in that order: a
   * transport that cannot open, or is cut before the server's open frame,
   * is replaced at once by the next one (with several nodes, once it
   * failed on two of them: see Balancing), and the engine keeps using the
   * one that worked until all of them have failed. The server's
   * Comet.WorkStyle (the handshake's workStyle) forces one; a page forces
   * one with the workStyle option, which wins over the server's:
   *
   *   JS.Engine.start('conn', param, { workStyle: 'lpool' });
   *
   * Reconnecting (Comet4J's AutoReconnect plugin, built in):
   *   JS.Engine.autoReconnect = false;   // a lost connection stays 'stop'ped
   *   JS.Engine.start('conn', param, { retryMin: 500, retryMax: 10000 });
   * The n-th consecutive retry waits a random time in
   * [0, min(retryMax, retryMin * 2^n)] ms ("full jitter"): pages dropped by
   * the same server restart spread out instead of coming back together.
   *
   * Balancing: the handshake's lists (endpoints, stream, lpool, cmd) hold
   * one URL per node, the same index naming the same node in each; a URL
   * holding {workerIndex} stands for one URL per worker, 0 to workers-1
   * (the handshake's workers count, or the workers option; without a count
   * it is worker 0). Each transport try picks a node at random and sends
   * its commands to the cmd URL of that node. A node where a transport does
   * not open (refused, cut or silent before the open frame) is avoided: the
   * next try goes to another one, over the same transport; a transport is
   * given up for the next one once it failed on two nodes (or on the only
   * one). An open connection lost by a failure ('timeout', or closed with
   * a code of NODE_LOST_CODES: 1001, 1006, 1011-1014) also makes its node
   * avoided; after any other close (1000, 4001 slow consumer, 4002
   * idle...) the page goes back to the node it was on. Avoided nodes are
   * not picked until every node is avoided; then the memory is cleared,
   * and the node that failed last is still left out while there is
   * another. start() forgets it all (NodePicker keeps this memory).
   *
   * Heartbeats: with the handshake's heartbeat H (or the heartbeat
   * option), a WebSocket or a stream that hears nothing, not even the
   * server's heartbeat, for deadBeats x H ms (2 by default) is taken as
   * lost; the page pings every H. A long-poll that is not answered within
   * the server's hold + H is taken as lost.
   *
   * Options (new JS.CometEngine(options), or start's third argument; the
   * same names are properties of engine.options):
   *   workStyle         'auto' | 'websocket' | 'stream' | 'lpool'
   *   retryMin, retryMax, handshakeTimeout, openTimeout (ms)
   *   heartbeat (ms, overrides the server's), deadBeats (default 2)
   *   requestTimeout    ms a command waits for its answer (default 15000)
   *   workers           the count {workerIndex} stands for (overrides the
   *                     handshake's workers)
   *   endpoints         ['ws://host:port/ws', ...]: the nodes, instead of
   *                     the handshake's lists; the stream, lpool and cmd
   *                     URLs are derived as CometServlet does from
   *                     Comet.PublicUrl (base/sse, base/poll, base/cmd)
   *   WebSocket         a WebSocket constructor (node, tests)
   * ------------------------------------------------------------------- */

  /* The engine's parts come first, each owning one piece of its state so
   * that CometEngine below only decides when things happen: the
   * subscription records (resume), the commands (their Promises), and the
   * node picker (balancing). None of them does I/O or fires events. */

  /* --- Subscription: one channel as the page knows it ---
   * A record owns one channel's resume position and its state. The
   * position (epoch, offset) is that of the last broadcast the page has of
   * the channel, or where the server said the channel starts (the pos of
   * the open frame or of a sub's ack); the next attach sends it back in
   * since, so that the server replays what the page missed. epoch is null
   * until the server has given one: such a record has nothing to resume
   * from and is left out of since. state says which command about the
   * channel is on its way; it is bookkeeping, and decides nothing sent:
   *   'subscribing'    a subscribe() is not answered yet
   *   'subscribed'     none is: the server placed the channel (a sub's ack,
   *                    the open frame's pos, a broadcast with a position)
   *   'unsubscribing'  an unsubscribe() is not answered yet; the position
   *                    still goes in since until the ack, as the server
   *                    may still hold the subscription
   * placed: the server has placed the channel at least once, so a failed
   * subscribe() leaves the record in place rather than removing it. */
  function Subscription(channel, state) {
    this.channel = channel;
    this.state = state || 'subscribing';
    this.placed = this.state !== 'subscribing';
    this.epoch = null;
    this.offset = 0;
  }

  Subscription.prototype.positioned = function () {
    return this.epoch !== null;
  };

  /* Takes a position the server gave. The page's own stays when it has
   * one and newer is false (the open frame: the page's is the last it was
   * delivered), or when it is further on in the same epoch; newer (a sub's
   * ack) also replaces one of another epoch. Returns whether it was
   * taken. */
  Subscription.prototype.take = function (epoch, offset, newer) {
    this.placed = true;
    if (this.positioned() &&
        (!newer || (this.epoch === epoch && this.offset >= offset))) {
      return false;
    }
    this.epoch = epoch;
    this.offset = offset;
    return true;
  };

  /* A broadcast at (epoch, offset): false if the page has it already (at
   * or below the position in the same epoch: a replay that overlapped
   * live traffic), else it becomes the position. Another epoch means the
   * server's history restarted: its offsets start again. */
  Subscription.prototype.advance = function (epoch, offset) {
    this.placed = true;
    if (this.epoch === epoch && offset <= this.offset) return false;
    this.epoch = epoch;
    this.offset = offset;
    return true;
  };

  /* --- SubscriptionTable: the engine's Subscription records ---
   * Owns the records of one session (start() begins a new one), by
   * channel, and the window of message ids delivered; builds the since
   * position of an attach from the records. A record exists for a channel
   * the page subscribed to by command, or that the server gave a position
   * (the ticket's channels with a history); an unsubscribe's ack removes
   * it. The table has no prototype, so that a channel named 'constructor'
   * or 'toString' is a channel like any other. */
  function SubscriptionTable() {
    this.reset();
  }

  /* How many message ids ("u") the page remembers (docs/protocol.md,
   * section 9: the copies of an outage's broadcasts come soon after). */
  SubscriptionTable.IDS_KEPT = 256;

  SubscriptionTable.prototype.reset = function () {
    this.records = Object.create(null);
    this.ids = [];   /* the last message ids delivered, oldest first */
  };

  SubscriptionTable.prototype.get = function (channel) {
    return this.records[channel];
  };

  /* The record of channel, made in state if there is none. */
  SubscriptionTable.prototype.ensure = function (channel, state) {
    return this.records[channel] ||
           (this.records[channel] = new Subscription(channel, state));
  };

  SubscriptionTable.prototype.remove = function (channel) {
    delete this.records[channel];
  };

  /* Takes channel -> [epoch, offset] positions from the server (the open
   * frame's, newer false; a sub's ack, newer true: see Subscription.take);
   * an entry that is not [string, number] is skipped. */
  SubscriptionTable.prototype.take = function (pos, newer) {
    if (!isObject(pos)) return;
    for (var ch in pos) {
      var p = pos[ch];
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' ||
          typeof p[1] !== 'number') continue;
      this.ensure(ch, 'subscribed').take(p[0], p[1], newer);
    }
  };

  /* Whether a msg frame is new to the page; moves the position of a
   * broadcast's channel on (see Subscription.advance). A broadcast its
   * node delivered while cut off from the other nodes carries a message
   * id, and so does its copy with an offset, later (docs/protocol.md
   * section 9): the copy moves the position on but is not delivered
   * twice. A frame without a position (sendTo) only has its id checked. */
  SubscriptionTable.prototype.fresh = function (f) {
    var fresh = true;
    if (typeof f.u === 'string') {
      if (this.ids.indexOf(f.u) >= 0) {
        fresh = false;
      } else {
        this.ids.push(f.u);
        if (this.ids.length > SubscriptionTable.IDS_KEPT) this.ids.shift();
      }
    }
    if (typeof f.e !== 'string' || typeof f.o !== 'number') return fresh;
    return this.ensure(f.ch, 'subscribed').advance(f.e, f.o) && fresh;
  };

  /* channel -> [epoch, offset] of every record with a position (an object
   * without a prototype, as the table). */
  SubscriptionTable.prototype.positions = function () {
    var out = Object.create(null);
    for (var ch in this.records) {
      var r = this.records[ch];
      if (r.positioned()) out[ch] = [r.epoch, r.offset];
    }
    return out;
  };

  /* The since parameter of the next attach, or '' when no record has a
   * position (docs/protocol.md, section 6). */
  SubscriptionTable.prototype.since = function () {
    return Protocol.encodeSince(this.positions());
  };

  /* A command frame was made (before it is sent): a sub or unsub marks
   * its channel's record until its answer. */
  SubscriptionTable.prototype.commandMade = function (frame) {
    var r = this.records[frame.ch];
    if (frame.t === 'sub') this.ensure(frame.ch).state = 'subscribing';
    else if (frame.t === 'unsub' && r) r.state = 'unsubscribing';
  };

  /* A command settled. answer: the server's frame when it succeeded (ack,
   * res), null when it failed (an err, a timeout, a lost connection: the
   * server may or may not have done it). A sub's ack brings the channel's
   * position; an unsub's ack removes the record. A failed sub removes a
   * record the server never placed (there is nothing to resume) and
   * leaves any other as it was, with its position; a failed unsub leaves
   * the record too: the same since goes out as if the command had not
   * been made. */
  SubscriptionTable.prototype.commandDone = function (frame, answer) {
    if (frame.t !== 'sub' && frame.t !== 'unsub') return;
    var acked = answer !== null && answer.t === 'ack';
    if (acked && frame.t === 'unsub') {
      this.remove(frame.ch);
      return;
    }
    if (acked) this.take(answer.pos, true);
    var r = this.records[frame.ch];
    if (!r) return;
    if (frame.t === 'unsub') {
      if (r.state === 'unsubscribing') r.state = 'subscribed';
      return;
    }
    if (answer !== null) r.placed = true;
    if (!r.placed) this.remove(frame.ch);
    else r.state = 'subscribed';
  };

  /* --- Commands: the page's commands until they are settled ---
   * Owns every command that subscribe, unsubscribe, publish and request
   * make, from its id to its settling: the id (counted from 1 per engine;
   * the server's answer carries it), the commands waiting for the
   * connection to open (queue), those sent and waiting for their answer
   * (pending, by id), and each one's timer. A command settles exactly
   * once: with its answer (an err frame rejects with the server's code and
   * message), with TIMEOUT (4080) when no answer came in its time, or
   * with LOST (1006) when it could not be sent or its connection was lost.
   * The engine decides when to send and when a connection is lost; this
   * keeps the books. settled(frame, answer), if given, runs as each
   * command settles, before its Promise does: answer is the server's ack
   * or res frame, or null when the command failed. */
  function Commands(settled) {
    this.lastId = 0;
    this.pending = {};   /* id -> command sent, waiting for its answer */
    this.queue = [];     /* commands waiting for the connection to open */
    this.settled = settled || null;
  }

  /* An Error with the code of a failed command (CODES). */
  function commandError(code, message) {
    var e = new Error(message || ('error ' + code));
    e.code = code;
    return e;
  }

  /* A new command for frame, which gets its id here; cmd.promise settles
   * as said above, ms from now at the latest. what names the command in
   * the timeout's message. Neither sent nor queued yet: see send, wait. */
  Commands.prototype.make = function (frame, what, ms) {
    var self = this;
    var cmd = { id: ++this.lastId, frame: frame, timer: null, done: false,
                resolve: null, reject: null, promise: null };
    frame.id = cmd.id;
    cmd.promise = new root.Promise(function (resolve, reject) {
      cmd.resolve = resolve;
      cmd.reject = reject;
    });
    cmd.timer = setTimeout(function () {
      self.settle(cmd, commandError(CODES.TIMEOUT,
                                    what + ': no answer within ' + ms + ' ms'));
    }, ms);
    return cmd;
  };

  /* Keeps cmd until flush: the connection is not open yet. */
  Commands.prototype.wait = function (cmd) {
    this.queue.push(cmd);
  };

  /* Sends cmd with send(text, failed), the transport's send: it returns
   * false when it cannot send, and an HTTP transport calls failed(status)
   * when its POST is not answered 200 (0: a network error). Then cmd waits
   * for its answer. */
  Commands.prototype.send = function (cmd, send) {
    var self = this;
    this.pending[cmd.id] = cmd;
    var sent = send(Protocol.encode(cmd.frame), function (status) {
      self.settle(cmd, commandError(CODES.LOST, 'command not delivered (' +
                  (status ? 'http:' + status : 'network error') + ')'));
    });
    if (!sent) {
      this.settle(cmd, commandError(CODES.LOST,
                                    'command not sent: connection lost'));
    }
  };

  /* Sends the commands that waited for the connection, oldest first. */
  Commands.prototype.flush = function (send) {
    var queued = this.queue;
    this.queue = [];
    for (var i = 0; i < queued.length; i++) this.send(queued[i], send);
  };

  /* An ack, res or err frame: settles the command of its id. Returns
   * false when no command waits for it (answered already, timed out, or
   * not ours). An err without a numeric code counts as BAD_COMMAND. */
  Commands.prototype.answer = function (f) {
    var cmd = this.pending[f.id];
    if (!cmd) return false;
    if (f.t === 'err') {
      this.settle(cmd, commandError(
        typeof f.code === 'number' ? f.code : CODES.BAD_COMMAND,
        typeof f.message === 'string' ? f.message : ''));
    } else {
      this.settle(cmd, f.t === 'res' ? f.result : undefined, f);
    }
    return true;
  };

  /* Settles cmd once: rejected when value is an Error, else resolved with
   * value. answer: the server's frame that answered it, if any. */
  Commands.prototype.settle = function (cmd, value, answer) {
    if (cmd.done) return;
    cmd.done = true;
    clearTimeout(cmd.timer);
    delete this.pending[cmd.id];
    var i = this.queue.indexOf(cmd);
    if (i !== -1) this.queue.splice(i, 1);
    var failed = value instanceof Error;
    if (this.settled) this.settled(cmd.frame, failed ? null : answer || null);
    if (failed) cmd.reject(value);
    else cmd.resolve(value);
  };

  /* Rejects with LOST every command sent and not answered; all: the
   * queued ones too. Sent ones are not sent again on the next connection:
   * resending could do a publish twice. */
  Commands.prototype.rejectAll = function (message, all) {
    var list = [];
    for (var id in this.pending) list.push(this.pending[id]);
    if (all) list = list.concat(this.queue);
    for (var i = 0; i < list.length; i++) {
      this.settle(list[i], commandError(CODES.LOST, message));
    }
  };

  /* --- NodePicker: the node each try attaches to ---
   * Owns the balancing memory of one session (Balancing above, and
   * docs/protocol.md section 9): the random choice among a list's nodes,
   * the nodes avoided since they failed, the node that failed last, the
   * node to go back to after a normal close, and the node of the current
   * try (current). A node is what Protocol.nodeOf names, so the same
   * index of the handshake's lists is one node. random: a function like
   * Math.random, the default (tests pass their own). */
  function NodePicker(random) {
    this.random = random || Math.random;
    this.reset();
  }

  NodePicker.prototype.reset = function () {
    this.avoided = Object.create(null);   /* node -> true: failed, not
                                           * picked for now */
    this.lastFailed = '';
    this.stay = '';
    this.current = '';
  };

  /* The index in urls of the node to attach to, which becomes current:
   * the node to stay on after a normal close, if it is still listed and
   * not avoided; else one at random among those not avoided. Once every
   * node listed is avoided the memory is cleared, and the node that failed
   * last is still left out while there is another. */
  NodePicker.prototype.pick = function (urls) {
    var nodes = urls.map(Protocol.nodeOf);
    var i = this._choose(nodes);
    this.current = nodes[i];
    return i;
  };

  NodePicker.prototype._choose = function (nodes) {
    var stay = this.stay;
    this.stay = '';
    var ok = [];
    for (var i = 0; i < nodes.length; i++) {
      if (nodes[i] === stay && !this.avoided[stay]) return i;
      if (!this.avoided[nodes[i]]) ok.push(i);
    }
    if (!ok.length) {
      this.avoided = Object.create(null);
      for (i = 0; i < nodes.length; i++) {
        if (nodes[i] !== this.lastFailed) ok.push(i);
      }
      if (!ok.length) return Math.floor(this.random() * nodes.length);
    }
    return ok[Math.floor(this.random() * ok.length)];
  };

  /* node failed (a transport did not open there, or its connection was
   * lost): it is not picked again for now. */
  NodePicker.prototype.avoid = function (node) {
    this.avoided[node] = true;
    this.lastFailed = node;
  };

  /* The open connection on the current node ended with the stop cause
   * cause: a lost node is avoided; after a normal close the next try goes
   * back to it. */
  NodePicker.prototype.closed = function (cause) {
    if (NodePicker.lost(cause)) this.avoid(this.current);
    else this.stay = this.current;
  };

  /* Whether a stop cause is the node's failure rather than a normal
   * close: silence ('timeout'), or a close code in NODE_LOST_CODES. */
  NodePicker.lost = function (cause) {
    return cause === 'timeout' ||
           NODE_LOST_CODES[String(cause).replace(/^closed:/, '')] === true;
  };

  /* --- CometEngine --- */

  var DEFAULTS = {
    workStyle: 'auto',
    handshakeTimeout: 10000, /* ms for the GET ?cmd=conn answer */
    openTimeout: 10000,      /* ms from opening a transport to the open frame */
    retryMin: 500,           /* scale of the first reconnect delay, ms */
    retryMax: 10000,         /* cap of the doubling delay, ms */
    heartbeat: 0,            /* ms; 0: the server's */
    deadBeats: 2,            /* silent heartbeats before a reconnect */
    requestTimeout: 15000    /* ms a command waits for its answer */
  };

  function CometEngine(options) {
    var self = this;
    this._linger = 0; /* ms a closed transport stays open (Connector.stop) */
    this.options = {};
    for (var k in DEFAULTS) this.options[k] = DEFAULTS[k];
    this.config(options);

    /* Comet4J's public fields. connector is this engine's JS.Connector
     * (below): the engine keeps its url, param, cId, channels, workStyle
     * and running up to date, and it fires Comet4J's connector events. */
    this.running = false;   /* true between the 'start' and 'stop' events */
    this.autoReconnect = true;
    /* Who hears of the engine's life besides its listeners: its
     * connector, and any JS.Connector built alone over this engine (the
     * methods _starting ... _stopped of Connector, below). */
    this._taps = [];
    this.connector = new Connector({ _engine: this });

    this._listeners = Object.create(null);   /* name -> array of {fn,
                             * scope}, replaced on every change */
    this._events = Object.create(null);   /* names declared by addEvent */
    this._state = 'stopped'; /* stopped | connecting | open | waiting */
    this._attempt = 0;      /* id of the current transport attempt; older
                             * callbacks compare theirs and return */
    this._failures = 0;     /* consecutive failed attempts, for backoff */
    this._http = null;      /* handshake request in flight */
    this._transport = null;
    this._timer = null;     /* handshake/open timeout or reconnect delay */
    this._beat = null;      /* heartbeat interval while open */
    this._lastRecv = 0;
    this._lastId = '';      /* the connection to revive on a reconnect */
    this._held = false;     /* the last handshake kept that connection */
    this._fallen = {};      /* workStyle -> true: could not open here */
    this._tries = {};       /* workStyle -> nodes it failed on, this
                             * handshake */
    this._subs = new SubscriptionTable();   /* positions for resume */
    this._picker = new NodePicker();        /* the node of each try */
    /* Commands; a sub's or unsub's answer updates its channel's record. */
    this._commands = new Commands(function (frame, answer) {
      self._subs.commandDone(frame, answer);
    });
  }

  /* The engine is a JS.Observable to Comet4J's pages (instanceof, and
   * every method of one below), with its own listener table: its event
   * names are exact (channel names), where an Observable's are not
   * case-sensitive. */
  CometEngine.prototype = Object.create(Observable.prototype);
  CometEngine.prototype.constructor = CometEngine;

  /* Merges options into engine.options; returns the engine. */
  CometEngine.prototype.config = function (options) {
    for (var k in (options || {})) this.options[k] = options[k];
    return this;
  };

  /* --- listeners --- */

  /* on(name, fn[, scope]) or on({name: fn, ...}[, scope]) (Comet4J's
   * on(map, fn, scope) too): fn runs with this = scope, the engine when
   * none is given. Adding the same fn twice to one name keeps one. Lists
   * are copied on change, so a dispatch that is running keeps the list it
   * started with. o: Comet4J's option object, which it never used; nor
   * does this. */
  CometEngine.prototype.on = function (name, fn, scope, o) {
    if (isObject(name)) {
      var s = scope != null ? scope : typeof fn !== 'function' ? fn : undefined;
      for (var n in name) this.on(n, name[n], s);
      return this;
    }
    if (typeof fn !== 'function') return this;
    var list = this._listeners[name] || [];
    for (var i = 0; i < list.length; i++) {
      if (list[i].fn === fn) return this;
    }
    this._listeners[name] = list.concat([{ fn: fn, scope: scope }]);
    return this;
  };
  CometEngine.prototype.addListener = CometEngine.prototype.on;

  /* Comet4J's addListeners(map, scope). */
  CometEngine.prototype.addListeners = function (map, scope, o) {
    if (isObject(map)) this.on(map, undefined, scope);
    return this;
  };

  /* Without fn: every listener of name. Listeners are compared by fn
   * (scope, Comet4J's third argument, does not matter), as in Comet4J. */
  CometEngine.prototype.removeListener = function (name, fn, scope) {
    if (isObject(name)) {
      for (var n in name) this.removeListener(n, name[n]);
      return this;
    }
    var list = this._listeners[name];
    if (!list) return this;
    var rest = fn === undefined ? [] :
      list.filter(function (l) { return l.fn !== fn; });
    if (rest.length) this._listeners[name] = rest;
    else delete this._listeners[name];
    return this;
  };
  CometEngine.prototype.un = CometEngine.prototype.removeListener;

  /* Runs the listeners of name with the arguments that follow. A listener
   * that throws is logged and does not stop the others; what they return
   * means nothing here (see fireEvent). */
  CometEngine.prototype.fire = function (name) {
    var list = this._listeners[name];
    if (!list) return;
    var args = Array.prototype.slice.call(arguments, 1);
    for (var i = 0; i < list.length; i++) {
      try {
        list[i].fn.apply(list[i].scope || this, args);
      } catch (e) {
        warn('listener of "' + name + '" threw', e);
      }
    }
  };

  /* Comet4J's fireEvent: as fire, but the first listener that returns
   * false stops the others, and it answers false then, true when every
   * listener ran, undefined when name has none. The engine fires its own
   * events with fire: a page's listener stops no other. */
  CometEngine.prototype.fireEvent = function () {
    var name = arguments[0];
    var list = this._listeners[name];
    if (!list) return undefined;
    var args = Array.prototype.slice.call(arguments, 1);
    for (var i = 0; i < list.length; i++) {
      var r;
      try {
        r = list[i].fn.apply(list[i].scope || this, args);
      } catch (e) {
        warn('listener of "' + name + '" threw', e);
        continue;
      }
      if (r === false) return false;
    }
    return true;
  };

  /* Comet4J's declared events: the engine needs none declared (a
   * listener of any name is heard), but hasEvent answers for them, and
   * the channels of the open connection are declared as Comet4J's were. */
  CometEngine.prototype.addEvent = function (name) {
    if (typeof name === 'string') this._events[name] = true;
  };
  CometEngine.prototype.addEvents = function (names) {
    var list = Syntax.isArray(names) ? names : arguments;
    for (var i = 0; i < list.length; i++) this.addEvent(list[i]);
  };
  CometEngine.prototype.hasEvent = function (name) {
    return !!(this._events[name] || this._listeners[name]);
  };
  CometEngine.prototype.hasListener = function (name, fn, scope) {
    var list = this._listeners[name] || [];
    for (var i = 0; i < list.length; i++) {
      if (list[i].fn === fn) return true;
    }
    return false;
  };
  /* Forgets name: its listeners and its declaration. */
  CometEngine.prototype.removeEvent = function (name) {
    delete this._listeners[name];
    delete this._events[name];
  };
  CometEngine.prototype.removeEvents = function (names) {
    var list = typeof names === 'string' ? [names] : names || [];
    for (var i = 0; i < list.length; i++) this.removeEvent(list[i]);
  };
  CometEngine.prototype.clearListeners = function () {
    this._listeners = Object.create(null);
  };
  CometEngine.prototype.clearEvents = function () {
    this.clearListeners();
    this._events = Object.create(null);
  };
  /* As in Comet4J, which never wrote them: they do nothing. */
  CometEngine.prototype.suspendEvents = function () {};
  CometEngine.prototype.resumeEvents = function () {};

  /* --- taps: the connectors that hear of the engine's life ---
   * _tell(name, args...) calls method name of every tap with the args;
   * _ask does the same and answers false if any of them answered false
   * (a veto of a start or a stop). */
  CometEngine.prototype._tell = function (name) {
    var taps = this._taps.slice();
    var args = Array.prototype.slice.call(arguments, 1);
    var ok = true;
    for (var i = 0; i < taps.length; i++) {
      if (taps[i][name].apply(taps[i], args) === false) ok = false;
    }
    return ok;
  };
  CometEngine.prototype._ask = CometEngine.prototype._tell;

  /* --- public API --- */

  /* Starts connecting to url (the CometServlet mapping, e.g. 'conn').
   * param (object or query string) goes along with the handshake, where a
   * BeforeConnectListener can read it; options as in config(). Ignored
   * while already started, or when a listener of the connector's
   * beforeConnect returns false. A start after stop() is a new session:
   * nothing is resumed. */
  CometEngine.prototype.start = function (url, param, options) {
    if (this._state !== 'stopped') return this;
    url = url || this.connector.url;
    if (!url) throw new Error('comet4j: start(url) needs the url of CometServlet');
    if (!this._ask('_starting', url)) return this;
    this.config(options);
    this.connector.url = url;
    if (param !== undefined) this.connector.param = toQuery(param);
    this._failures = 0;
    this._subs.reset();
    this._lastId = '';
    this._fallen = {};
    this._picker.reset();
    this._connect();
    return this;
  };

  /* Closes the connection and cancels any reconnect. Fires 'stop' with
   * cause (default 'stop') if the engine was started, unless a listener of
   * the connector's beforeStop returns false. */
  CometEngine.prototype.stop = function (cause) {
    if (this._state === 'stopped') return this;
    var cId = this.connector.cId;
    var url = this.connector.url;
    if (cause === undefined) cause = 'stop';
    if (!this._ask('_stopping', cause, cId, url, false)) return this;
    this._cleanup();
    this._state = 'stopped';
    this._commands.rejectAll('stopped before the answer', true);
    this._tell('_stopped', cause, cId, url);
    this.fire('stop', cause, cId, url, this);
    return this;
  };

  /* Cuts the connection as a network failure would (JS.Connector's
   * _xhr.abort()): the engine reconnects, as after any loss. */
  CometEngine.prototype._cut = function () {
    if (this._state === 'open' || this._state === 'connecting') {
      this._fail(this._attempt, 'closed:' + CODES.LOST);
    }
  };

  CometEngine.prototype.getId = function () { return this.connector.cId; };

  /* --- commands: subscribe, unsubscribe, publish, request --- */

  CometEngine.prototype.subscribe = function (channel) {
    return this._command({ t: 'sub', ch: channel }, 'ch');
  };
  CometEngine.prototype.unsubscribe = function (channel) {
    return this._command({ t: 'unsub', ch: channel }, 'ch');
  };
  /* data: any JSON value, or bytes (an ArrayBuffer, a typed array, a
   * DataView: copied now, sent as a binary message on WebSocket and in
   * base64 over the HTTP transports, docs/protocol.md section 11). */
  CometEngine.prototype.publish = function (channel, data) {
    var bytes = asBytes(data);
    return this._command({ t: 'pub', ch: channel,
                           data: bytes ? bytes.slice() :
                                 data === undefined ? null : data }, 'ch');
  };
  /* options: {timeout: ms}, instead of the engine's requestTimeout. */
  CometEngine.prototype.request = function (route, params, options) {
    var f = { t: 'req', route: route };
    if (params !== undefined) f.params = params;
    return this._command(f, 'route', options);
  };

  /* One command: the Promise of a Commands entry, settled by its answer,
   * by its timeout, or by the loss of the connection. name: the field
   * that must be a non-empty string. A bad command, or one made while the
   * engine is stopped, is rejected at once and gets no id. */
  CometEngine.prototype._command = function (frame, name, options) {
    if (typeof root.Promise !== 'function') {
      throw new Error('comet4j: commands need Promise');
    }
    if (typeof frame[name] !== 'string' || !frame[name]) {
      return root.Promise.reject(commandError(CODES.BAD_COMMAND,
        frame.t + ': ' + name + ' must be a non-empty string'));
    }
    if (this._state === 'stopped') {
      return root.Promise.reject(commandError(CODES.LOST,
        'not connected: the engine is stopped'));
    }
    var ms = options && options.timeout > 0 ? options.timeout :
             this.options.requestTimeout;
    var cmd = this._commands.make(frame, frame.t + ' ' + frame[name], ms);
    /* Before sending: a send that fails at once settles the command, and
     * its record must already say that it was made. */
    this._subs.commandMade(frame);
    if (this._state === 'open') this._commands.send(cmd, this._sender());
    else this._commands.wait(cmd);
    return cmd.promise;
  };

  /* The send function Commands uses for this attempt: over the current
   * transport; a failed POST that reports once a newer attempt began
   * changes nothing (its command was rejected with the connection). */
  CometEngine.prototype._sender = function () {
    var self = this;
    var attempt = this._attempt;
    var transport = this._transport;
    return function (text, failed) {
      return !!transport && transport.send(text, function (status) {
        if (attempt === self._attempt) failed(status);
      });
    };
  };

  CometEngine.prototype.getConnector = function () { return this.connector; };

  /* --- one attempt: handshake, attach (trying transports), open --- */

  CometEngine.prototype._connect = function () {
    var self = this;
    var id = ++this._attempt;
    this._state = 'connecting';
    var url = appendQuery(appendQuery(this.connector.url, 'cmd=conn'),
                          this.connector.param);
    if (this._lastId) {
      url = appendQuery(url, 'cId=' + encodeURIComponent(this._lastId));
    }
    this._setTimer(this.options.handshakeTimeout, function () {
      self._fail(id, 'timeout');
    });
    this._http = request('GET', url, null, function (status, text) {
      if (id !== self._attempt) return;
      self._http = null;
      /* 403: the application said no, or (code ORIGIN_REFUSED) the page's
       * origin is not in Comet.AllowedOrigins. */
      if (status === 403) {
        return self._fail(id, errorCode(text) === CODES.ORIGIN_REFUSED
          ? 'refused:origin' : 'refused', false);
      }
      if (status === 0) return self._fail(id, 'error');
      if (status !== 200) return self._fail(id, 'http:' + status);
      var hs = Protocol.decodeHandshake(text, self.options);
      if (!hs) return self._fail(id, 'error');
      self.connector.cId = hs.cId;
      self.connector.channels = hs.channels;
      /* The server still holds the connection the page had. */
      self._held = !!hs.cId && hs.cId === self._lastId;
      self._lastId = hs.cId || self._lastId;
      self._tries = {};
      self._tryTransport(hs, '');
    });
  };

  /* The workStyles to try, in order: the forced one, or the automatic
   * order without those that failed before or cannot run here. */
  CometEngine.prototype._candidates = function (hs) {
    var forced = this.options.workStyle;
    if (!forced || forced === 'auto') forced = hs.workStyle;
    if (forced && forced !== 'auto' && TRANSPORTS[forced]) return [forced];
    var opts = this.options;
    return FALLBACK_ORDER.filter(function (ws) {
      return Protocol.urlsOf(hs, ws).length > 0 &&
             TRANSPORTS[ws].supported(opts);
    });
  };

  /* Opens the next transport for this handshake; lastCause is why the
   * previous one of this attempt failed. */
  CometEngine.prototype._tryTransport = function (hs, lastCause) {
    var self = this;
    var all = this._candidates(hs);
    var left = all.filter(function (ws) { return !self._fallen[ws]; });
    var id = ++this._attempt;
    if (!left.length) {
      /* Every transport failed: start from the first one next time. */
      this._fallen = {};
      return this._fail(id, lastCause || 'error');
    }
    var workStyle = left[0];
    var Transport = TRANSPORTS[workStyle];
    var urls = Protocol.urlsOf(hs, workStyle);
    var i = this._picker.pick(urls);
    var node = this._picker.current;
    this.connector.workStyle = workStyle;
    this._hs = hs;
    this._heartbeat = this.options.heartbeat > 0 ? this.options.heartbeat :
                      hs.heartbeat;
    /* The node is avoided from now on; the transport is given up once it
     * failed on two nodes (or on the only one): one failure may be the
     * node's, two are more likely the network's (a proxy that blocks
     * WebSocket), and trying every node first would make pages behind
     * such a proxy wait openTimeout times the number of nodes. */
    var notOpen = function (cause, reason) {
      self._picker.avoid(node);
      self._tries[workStyle] = (self._tries[workStyle] || 0) + 1;
      var next = 'another node';
      if (self._tries[workStyle] >= Math.min(2, urls.length)) {
        self._fallen[workStyle] = true;
        next = 'the next transport';
      }
      warn(workStyle + ' did not open on ' + node + ' (' + cause +
           (reason ? ' ' + reason : '') + '), trying ' + next);
      self._tryTransport(hs, cause);
    };
    this._setTimer(this.options.openTimeout, function () {
      if (id === self._attempt) notOpen('timeout');
    });
    var poll = Protocol.pollHold(hs) + (this._heartbeat || 10000);
    /* Every callback checks the attempt id: a transport that belonged to an
     * earlier attempt may still report, and must change nothing. */
    this._transport = new Transport({
      onFrame: function (frame, aside) {
        if (id === self._attempt) self._onFrame(id, frame, aside);
      },
      onAlive: function () {
        if (id === self._attempt) self._lastRecv = +new Date();
      },
      onRenew: function () {
        if (id === self._attempt && self._state === 'open') self._tell('_renewed');
      },
      onClose: function (code, reason) {
        if (id !== self._attempt) return;
        if (self._state === 'connecting' && !NO_RETRY_CODES[code]) {
          notOpen('closed:' + code, reason);
          return;
        }
        self._fail(id, 'closed:' + code, !NO_RETRY_CODES[code]);
      }
    }, { WebSocket: this.options.WebSocket, pollTimeout: poll });
    /* The cmd URL of the same index: it must reach the node that holds
     * the stream or the poll. */
    this._transport.open({ endpoint: urls[i],
                           cmd: hs.cmd.length ? hs.cmd[i % hs.cmd.length] : '' },
                         hs.ticket, function () {
                           return self._subs.since();
                         });
  };

  /* aside: the frame came as the answer to a command, not over the
   * connection itself, so it does not prove the connection alive. */
  CometEngine.prototype._onFrame = function (id, text, aside) {
    if (!aside) this._lastRecv = +new Date();
    var f = Protocol.decode(text);
    if (!f) {
      warn('dropped a malformed frame', text);
      return;
    }
    /* A long-poll that comes back to the connection the server holds for
     * the page while it is parked between two polls continues it quietly,
     * without an open frame (docs/protocol.md section 6, details of the
     * core): its first answer says that it is attached. Waiting for an
     * open frame instead would drop what the answers carry and poll again
     * with the same since, over and over, until openTimeout. */
    if (f.t !== 'open' && !aside && this._state === 'connecting' && this._held &&
        TRANSPORTS[this.connector.workStyle] === PollTransport) {
      this._opened(id, { t: 'open' });
      if (id !== this._attempt) return;
    }
    if (f.t === 'open') {
      if (this._state !== 'connecting') return;
      this._opened(id, f);
    } else if (f.t === 'msg') {
      /* The connectors hear first (Comet4J's message event, then the
       * engine's channel event); one of their listeners may stop it. */
      if (this._state === 'open' && this._subs.fresh(f)) {
        this._tell('_message', f.ch, f.data, f.time);
        if (id === this._attempt) this.fire(f.ch, f.data, f.time, this);
      }
    } else if (f.t === 'recovered') {
      if (this._state === 'open') {
        /* "lost": how many, when the server lost messages of a channel
         * while the page was connected (section 9). */
        var lost = typeof f.lost === 'number' && f.lost >= 0 ? [f.lost] : [];
        this._tell('_notice', 'recovered', [f.recovered === true, f.ch], lost);
        if (id === this._attempt) {
          this.fire.apply(this, ['recovered', f.recovered === true, f.ch, this].concat(lost));
        }
      }
    } else if (f.t === 'ack' || f.t === 'res' || f.t === 'err') {
      this._commands.answer(f);
    } else if (f.t === 'join' || f.t === 'leave') {
      if (this._state === 'open') {
        this._tell('_notice', f.t, [f.ch, f.user, f.cId]);
        if (id === this._attempt) this.fire(f.t, f.ch, f.user, f.cId, this);
      }
    }
    /* 'pong' and frame types this version does not know: nothing to do
     * beyond the liveness stamp above. */
  };

  CometEngine.prototype._opened = function (id, f) {
    var self = this;
    this._clearTimer();
    this._state = 'open';
    this._failures = 0;
    if (typeof f.cId === 'string' && f.cId) {
      this.connector.cId = this._lastId = f.cId;
    }
    if (Array.isArray(f.channels)) this.connector.channels = f.channels;
    /* The server says where each channel stands now: a page that has had
     * no message yet still knows what to resume from after a cut. A
     * position the page already has stays (it is the last delivered). */
    this._subs.take(f.pos, false);
    this.running = this.connector.running = true;
    /* Pings keep proxies and NATs from idling the connection out, and the
     * pongs (or the server's own heartbeat) prove the server is still
     * there: deadBeats heartbeats of silence mean the connection is dead
     * even if no close ever arrives. A long-poll watches itself. */
    var beat = this._heartbeat;
    var transport = this._transport;
    if (beat > 0) {
      var dead = beat * this.options.deadBeats;
      var sent = +new Date();
      var Transport = TRANSPORTS[this.connector.workStyle];
      this._beat = setInterval(function () {
        if (id !== self._attempt) return;
        var now = +new Date();
        if (!Transport.selfWatch && now - self._lastRecv > dead) {
          self._fail(id, 'timeout');
          return;
        }
        if (!Transport.selfWatch && now - sent >= beat - 20) {
          sent = now;
          transport.send(Protocol.encode(Protocol.ping()));
        }
      }, Math.max(20, Math.min(beat, dead) / 4));
    }
    /* Commands made while connecting go first, before the listeners of
     * 'start' make theirs. */
    this._commands.flush(this._sender());
    this.addEvents(this.connector.channels);
    /* The connectors hear first, as Comet4J's engine heard from its
     * connector; one of their listeners may stop the engine. */
    this._tell('_opened', this.connector.cId, this.connector.channels,
               this.connector.workStyle, this._hs.timeout);
    if (id !== this._attempt) return;
    this.fire('start', this.connector.cId, this.connector.channels, this);
  };

  /* Ends attempt id with cause; reconnects later unless retry === false or
   * autoReconnect is off. */
  CometEngine.prototype._fail = function (id, cause, retry) {
    if (id !== this._attempt || this._state === 'stopped') return;
    var cId = this.connector.cId;
    if (this._state === 'open') {
      /* A lost node is avoided; after a normal close the page goes back
       * to the node it was on. */
      this._picker.closed(cause);
    }
    var stopping = retry === false || !this.autoReconnect;
    var url = this.connector.url;
    if (stopping) {
      /* The connector's beforeStop hears of it, but cannot keep it going;
       * a listener of it may have stopped the engine already. */
      this._ask('_stopping', cause, cId, url, true);
      if (id !== this._attempt || this._state === 'stopped') return;
    }
    this._cleanup();
    /* Sent and unanswered: lost with the connection (resending could do a
     * publish twice). Not yet sent: they wait for the next connection. */
    this._commands.rejectAll('connection lost (' + cause +
                             ') before the answer', stopping);
    if (stopping) {
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
    /* The connectors hear first, as Comet4J's engine heard of a stop from
     * its connector. One that gives up (JS.Connector's retryCount) stops
     * the engine, which has then fired its 'stop' already. */
    if (stopping) {
      this._tell('_stopped', cause, cId, url);
      this.fire('stop', cause, cId, url, this);
      return;
    }
    var attempt = this._attempt;
    this._tell('_lost', cause);
    if (attempt === this._attempt) this.fire('stop', cause, cId, url, this);
  };

  /* Exponential backoff with full jitter: a random delay in
   * [0, min(retryMax, retryMin * 2^n)] ms before the n-th retry (n from 0). */
  CometEngine.prototype._retryDelay = function (n) {
    var cap = Math.min(this.options.retryMax,
                       this.options.retryMin * Math.pow(2, Math.min(n, 30)));
    return Math.floor(Math.random() * cap);
  };

  /* Forgets the current attempt: its late callbacks become no-ops. */
  CometEngine.prototype._cleanup = function () {
    this._attempt++;
    this._clearTimer();
    if (this._beat) clearInterval(this._beat);
    this._beat = null;
    if (this._http) this._http.abort();
    this._http = null;
    if (this._transport) this._transport.close(this._linger);
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

  /* --- JS.Connector: Comet4J's connector over this engine ---
   * Comet4J's JS.Engine sat on a JS.Connector that made the requests;
   * here the engine makes them (transports, handshake, resume, commands)
   * and a Connector is its face in Comet4J's terms. There are two kinds:
   *
   *   engine.connector (JS.Engine.getConnector()): the engine's own. The
   *     engine keeps its fields (url, param, cId, channels, workStyle,
   *     running: true while open) as it did, start and stop are the
   *     engine's, and it fires the events below. retryCount does not
   *     apply: the engine reconnects while autoReconnect is on.
   *   new JS.Connector(config): a connector used alone, as Comet4J's
   *     connectorTest page does, over an engine of its own that nobody
   *     else sees. It keeps Comet4J's fields: running is true from
   *     start() to its stop event (reconnects included), cId, channels
   *     and workStyle stay while it reconnects. It gives up after
   *     retryCount consecutive failed tries (each one a stop event of the
   *     engine: a lost connection, a handshake or transport that failed)
   *     and stops with the last cause.
   *
   * Events (Comet4J's, with its arguments; names are not case-sensitive):
   *   beforeConnect (url, conn)  start() was called; false: no start
   *   connect (cId, channels, workStyle, timeout, conn)
   *                              a connection is open with a connection id
   *                              the connector had not announced (the first,
   *                              or the server's new one after a reconnect
   *                              it could not revive); workStyle: 'websocket',
   *                              'stream' or 'lpool'; timeout: the server's
   *                              Comet.Timeout (ms)
   *   revival (url, cId, conn)   the connection came back with the same id
   *                              (a reconnect the server revived), or a
   *                              long-poll sent its next poll, as Comet4J's
   *                              revival requests
   *   message (channel, data, time, conn)  a message of any channel
   *   beforeStop (cause, cId, url, conn)   stop(cause) was called, or the
   *                              connector is giving up or was refused;
   *                              false keeps it going, except when the
   *                              server decided (refused, a close code that
   *                              is not retried, autoReconnect off)
   *   stop (cause, cId, url, conn)  stopped for good; cause is the page's,
   *                              or one of the engine's stop causes
   * and this client's own: recovered (recovered, channel, conn[, lost]),
   * join and leave (channel, user, cId, conn), as the engine's.
   *
   * Config (Comet4J's): url, param, retryCount (3), retryDelay (ms, 1000:
   * the scale of the first reconnect delay, the engine's retryMin),
   * revivalDelay (kept, unused: a long-poll sends its next poll at once),
   * listeners, events; and the engine's options, which a Connector alone
   * passes to its engine: workStyle ('auto', 'websocket', 'stream',
   * 'lpool': forced before start, the one in use after connect),
   * retryMin, retryMax, handshakeTimeout, openTimeout, heartbeat,
   * deadBeats, requestTimeout, workers, endpoints, WebSocket.
   *
   * _xhr is a JS.XMLHttpRequest, for the pages that reach into it, as
   * connectorTest does: the transports do not run over it, so its events
   * do not fire, but its abort() cuts the connection as it did in Comet4J
   * and the connector comes back: with a revival over stream and lpool
   * (the server keeps the id, as Comet4J's did); a WebSocket's close
   * frame tells the server that the page is gone, so over one the
   * connector comes back with a new connect. A Connector alone that
   * stops while on stream or lpool asks the server to drop its connection
   * at once (GET url?cmd=drop&cid=<cId>&param, as Comet4J did; a
   * WebSocket's close does it by itself), and so on pagehide, with
   * navigator.sendBeacon (a POST). The connector also has the engine's
   * commands: subscribe, unsubscribe, publish, request. */
  var ENGINE_OPTIONS = ['retryMin', 'retryMax', 'handshakeTimeout',
    'openTimeout', 'heartbeat', 'deadBeats', 'requestTimeout', 'workers',
    'endpoints', 'WebSocket'];

  var Connector = Syntax.extend(Observable, {
    version: JS.version,
    SYSCHANNEL: 'c4j',
    LLOOPSTYLE: 'lpool',
    STREAMSTYLE: 'stream',
    CMDTAG: 'cmd',
    retryCount: 3,
    retryDelay: 1000,
    currRetry: 0,
    url: '',
    param: '',
    revivalDelay: 100,
    cId: '',
    channels: null,
    workStyle: '',
    emptyUrlError: 'comet4j: start(url) needs the url of CometServlet',
    runningError: 'comet4j: the connector is running',
    dataFormatError: 'comet4j: the server answered data in a bad format',
    running: false,
    _xhr: null,
    lastReceiveMessage: '',

    /* new JS.Connector(config) */
    constructor: function () {
      var self = this;
      Connector.superclass.constructor.apply(this, arguments);
      this.addEvents(['beforeConnect', 'connect', 'beforeStop', 'stop',
                      'message', 'revival', 'recovered', 'join', 'leave']);
      if (!Syntax.isArray(this.channels)) this.channels = [];
      /* _engine given: the engine's own connector; else one alone. */
      this._alone = !this._engine;
      if (this._alone) this._engine = new CometEngine();
      this._engine._taps.push(this);
      this._announced = '';   /* the cId of the last connect event */
      this._asked = false;    /* beforeStop was asked by stop() itself */
      this._style = '';       /* the workStyle the page forced */
      this._xhr = new XHR();
      var abort = this._xhr.abort;
      this._xhr.abort = function () {
        try {
          abort.apply(this, arguments);
        } finally {
          self._engine._cut();
        }
      };
      if (this._alone && typeof root.addEventListener === 'function') {
        root.addEventListener('pagehide', function () { self.doDrop(true); });
      }
    },

    /* Starts connecting (to url, or the url config); param as the engine's
     * (an object or a query string), or the last one. Nothing while
     * running, or when a beforeConnect listener returns false. */
    start: function (url, param) {
      if (!this._alone) {
        this._engine.start(url, param);
        return;
      }
      if (this.running) return;
      this.url = url || this.url;
      if (!this.url) throw new Error(this.emptyUrlError);
      if (this.fireEvent('beforeConnect', this.url, this) === false) return;
      this.param = param || this.param;
      if (this.workStyle) this._style = this.workStyle;
      this.workStyle = '';
      this.running = true;
      this.currRetry = 0;
      this._announced = '';
      var options = { workStyle: this._style || 'auto',
                      retryMin: this.retryDelay };
      for (var i = 0; i < ENGINE_OPTIONS.length; i++) {
        var k = ENGINE_OPTIONS[i];
        if (this[k] !== undefined) options[k] = this[k];
      }
      this._engine.start(this.url, this.param, options);
    },

    /* Stops, with beforeStop first (false: not stopped); cause is 'stop'
     * when none is given, as the engine's. */
    stop: function (cause) {
      if (!this._alone) {
        this._engine.stop(cause);
        return;
      }
      if (!this.running) return;
      if (cause === undefined) cause = 'stop';
      if (this.fireEvent('beforeStop', cause, this.cId, this.url, this) === false) {
        return;
      }
      /* A drop asked for: the transport stays open until the server ends
       * it (10 s at most), so that the server drops the connection
       * rather than seeing it lost first (Comet4J's events: no Dying). */
      this._engine._linger = this.doDrop() ? 10000 : 0;
      this._asked = true;
      try {
        this._engine.stop(cause);
      } finally {
        this._asked = false;
        this._engine._linger = 0;
      }
      /* The engine was stopped already (a veto earlier): end here. */
      this._finish(cause);
    },

    getId: function () {
      return this.cId;
    },

    /* Comet4J's: a query string with the & it is appended with. */
    perfectParam: function (param) {
      if (param && typeof param === 'string' && param.charAt(0) !== '&') {
        param = '&' + param;
      }
      return param;
    },

    /* Asks the server to drop the connection now, for the HTTP
     * transports (see above); unloading: the page is going away. */
    doDrop: function (unloading) {
      if (!this.running || !this.cId ||
          (this.workStyle !== 'stream' && this.workStyle !== 'lpool')) return false;
      var url = appendQuery(appendQuery(this.url, this.CMDTAG + '=drop&cid=' +
                                        encodeURIComponent(this.cId)),
                            toQuery(this.param));
      var nav = root.navigator;
      if (unloading && nav && typeof nav.sendBeacon === 'function') {
        try { nav.sendBeacon(url); } catch (e) { /* gone anyway */ }
        return false;
      }
      request('GET', url, null, function () {}, { timeout: 5000 });
      return true;
    },

    subscribe: function (channel) { return this._engine.subscribe(channel); },
    unsubscribe: function (channel) { return this._engine.unsubscribe(channel); },
    publish: function (channel, data) { return this._engine.publish(channel, data); },
    request: function (route, params, options) {
      return this._engine.request(route, params, options);
    },

    /* --- what the engine tells its taps (CometEngine._tell) --- */

    /* engine.start: the engine's own connector asks beforeConnect (a
     * Connector alone asked it in start()). */
    _starting: function (url) {
      this.currRetry = 0;
      return this._alone || this.fireEvent('beforeConnect', url, this) !== false;
    },

    /* engine.stop, or the engine stopping for good (forced: the veto is
     * not heard). */
    _stopping: function (cause, cId, url, forced) {
      if (this._asked) return true;
      var go = this.fireEvent('beforeStop', cause, this._alone ? this.cId : cId,
                              url, this) !== false;
      return forced || go;
    },

    _opened: function (cId, channels, workStyle, timeout) {
      if (this._alone) {
        if (!this.running) return;
        this.cId = cId;
        this.channels = channels;
        this.workStyle = workStyle;
      }
      this.currRetry = 0;
      if (cId && cId === this._announced) {
        this.fireEvent('revival', this.url, cId, this);
        return;
      }
      this._announced = cId;
      this.fireEvent('connect', cId, channels, workStyle, timeout, this);
    },

    _renewed: function () {
      this.fireEvent('revival', this.url, this.cId, this);
    },

    _message: function (channel, data, time) {
      this.fireEvent('message', channel, data, time, this);
    },

    /* args, then the connector, then after (e.g. recovered's lost). */
    _notice: function (name, args, after) {
      this.fireEvent.apply(this, [name].concat(args, [this], after || []));
    },

    /* A try failed or the connection was lost; the engine retries. */
    _lost: function (cause) {
      this.currRetry++;
      if (this._alone && this.currRetry > this.retryCount) this.stop(cause);
    },

    _stopped: function (cause, cId, url) {
      if (this._alone) {
        this._finish(cause);
        return;
      }
      this._announced = '';
      this.fireEvent('stop', cause, cId, url, this);
    },

    /* A Connector alone stops: fields cleared, then its stop event. */
    _finish: function (cause) {
      if (!this.running) return;
      var cId = this.cId;
      this.running = false;
      this.cId = '';
      this.channels = [];
      this.workStyle = '';
      this._announced = '';
      this.fireEvent('stop', cause, cId, this.url, this);
    }
  });

  JS.Protocol = Protocol;
  JS.Transports = TRANSPORTS;
  JS.FALLBACK_ORDER = FALLBACK_ORDER;
  JS.CODES = CODES;
  JS.NO_RETRY_CODES = NO_RETRY_CODES;
  JS.NODE_LOST_CODES = NODE_LOST_CODES;
  JS.Subscription = Subscription;
  JS.SubscriptionTable = SubscriptionTable;
  JS.Commands = Commands;
  JS.NodePicker = NodePicker;
  JS.CometEngine = CometEngine;
  JS.Connector = Connector;
  JS.Engine = new CometEngine();
  return JS;
}));
