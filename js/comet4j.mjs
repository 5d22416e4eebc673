/*
 * comet4j.mjs: comet4j.js as an ES module (the "import" entry of the
 * package comet4j-native): the default export is JS, and every name of JS
 * is also a named export.
 *
 *   import JS, { Engine, Connector, CODES } from 'comet4j-native';
 *
 * comet4j.js is the one file (the jar serves the same at
 * <context>/comet4j.js); this only imports it. Node and bundlers load it
 * as CommonJS, and its module.exports is the default of the namespace
 * below. A browser loading this file as a module without a bundler loads
 * comet4j.js as a module too, which then has no module.exports and
 * defines the global JS instead, as a plain <script> does.
 */
import * as loaded from './comet4j.js';

const JS = loaded.default || globalThis.JS;

export default JS;
export const {
  version, Runtime, isOpera, isFirefox, isChrome, isWebKit, isSafari, isSafari2, isSafari3,
  isSafari4, isIE, isIE7, isIE8, isIE6, isGecko, isGecko2, isGecko3, isWindows, isMac, isAir,
  isLinux, Syntax, log, ns, apply, override, extend, callBack, isEmpty, isArray, isDate,
  isObject, isPrimitive, isFunction, isNumber, isString, isBoolean, isElement, isDefined,
  toArray, DomEvent, on, un, DelayedTask, Observable, Event, Listener, HTTPStatus,
  XMLHttpRequest, AJAX, Protocol, Transports, FALLBACK_ORDER, CODES, NO_RETRY_CODES,
  NODE_LOST_CODES, Subscription, SubscriptionTable, Commands, NodePicker, CometEngine,
  Connector, Engine,
} = JS;
