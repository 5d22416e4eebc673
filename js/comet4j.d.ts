/*
 * comet4j.d.ts: the TypeScript declarations of comet4j.js, the page client
 * of comet4j-native: this client's API (JS.Engine, its commands and
 * events, JS.Connector, the codes, the protocol codec) and Comet4J 0.1.7's
 * page API (js/README.md lists it): one declaration per name of JS. The
 * behaviour is described in the comments of comet4j.js; these comments
 * say what each name takes and gives.
 *
 * comet4j.js is a UMD file, and so is this declaration:
 *   - a plain <script>: the global JS. In a script file (no import or
 *     export) JS is there once this file is in the program
 *     ("types": ["comet4j-native"] in tsconfig.json, or
 *     /// <reference types="comet4j-native" />);
 *   - CommonJS: const JS = require('comet4j-native');
 *   - an ES module, comet4j.mjs: import JS, { Engine, type StopCause }
 *     from 'comet4j-native'. Its default export is JS and its named
 *     exports are JS's names: what TypeScript gives an import of this
 *     declaration (module.exports as the default, its properties named),
 *     so the one declaration serves every entry of the package.
 *
 * Types are exact where the API is (work styles, stop causes, codes, event
 * names and their arguments); what the server or the page sends is
 * unknown (a channel's data, a request's params and result). A message
 * of bytes (docs/protocol.md section 11) reaches a channel's listeners
 * with a Uint8Array for data (check it: data instanceof Uint8Array), and
 * publish takes Bytes (an ArrayBuffer, a typed array, a DataView).
 * JS.Engine's events are its own five and the channel names: a name that
 * is not one of the five is a channel, whose listener gets
 * (data, time, engine). JS.Connector's and JS.XMLHttpRequest's event
 * names are a fixed set, spelt as Comet4J's documentation spells them
 * (at run time they are not case-sensitive).
 */

export = JS;
export as namespace JS;

declare namespace JS {
  /** The client's version, the release's (the root pom.xml's). */
  const version: string;

  // -------------------------------------------------------------------
  // Words of the API
  // -------------------------------------------------------------------

  /** A transport: WebSocket, Server-Sent Events (read with fetch), long-polling. */
  type WorkStyle = 'websocket' | 'stream' | 'lpool';
  /** What a page (or the server's Comet.WorkStyle) asks for: one, or 'auto' (in FALLBACK_ORDER). */
  type WorkStyleOption = WorkStyle | 'auto';

  /**
   * Why the engine stopped (the first argument of 'stop'):
   *   'stop'           stop() without a cause
   *   'refused'        the handshake answered 403 (a BeforeConnectListener); not retried
   *   'refused:origin' 403 with code 4033 (Comet.AllowedOrigins); not retried
   *   'error'          the handshake failed on the network, or was not a handshake
   *   'http:<status>'  the handshake answered another status
   *   'timeout'        the handshake or the open frame did not come in time, or silence
   *   'closed:<code>'  the connection closed with this close code (CloseCode)
   */
  type EngineStopCause = 'stop' | 'refused' | 'refused:origin' | 'error' | 'timeout' |
    `http:${number}` | `closed:${number}`;
  /** A stop event's cause: the engine's, or the page's own given to stop(cause). */
  type StopCause = EngineStopCause | (string & {});

  /** The table of codes (JS.CODES): close codes, then command error codes. */
  interface CodeTable {
    /** a normal close; the page closes with it */
    readonly NORMAL: 1000;
    /** the server is stopping */
    readonly GOING_AWAY: 1001;
    /** e.g. an unmasked client frame */
    readonly PROTOCOL_ERROR: 1002;
    /** binary data refused */
    readonly UNSUPPORTED_DATA: 1003;
    /** no close frame (network, an attach refused with an HTTP status, an
     * HTTP transport failed); a command whose connection was lost or never there */
    readonly LOST: 1006;
    /** text that is not UTF-8 */
    readonly INVALID_DATA: 1007;
    readonly POLICY: 1008;
    /** over Comet.MaxFrame or Comet.MaxMessage */
    readonly TOO_BIG: 1009;
    readonly INTERNAL_ERROR: 1011;
    readonly SERVICE_RESTART: 1012;
    readonly TRY_AGAIN_LATER: 1013;
    readonly BAD_GATEWAY: 1014;
    /** the output queue passed Comet.MaxQueue */
    readonly SLOW_CONSUMER: 4001;
    /** nothing from the page within timeout */
    readonly IDLE: 4002;
    /** dropped by the application */
    readonly DROPPED: 4003;
    /** the same connection id attached again */
    readonly REPLACED: 4004;
    /** dying period over (only in the server's DROP event) */
    readonly EXPIRED: 4005;
    readonly BAD_COMMAND: 4000;
    /** a Subscribe/PublishListener said no */
    readonly REFUSED: 4030;
    /** the handshake's Origin is not allowed (HTTP 403) */
    readonly ORIGIN_REFUSED: 4033;
    /** channel not writable by pages */
    readonly NOT_WRITABLE: 4031;
    /** unknown channel or route */
    readonly UNKNOWN: 4040;
    /** no answer in time (the server's or the page's) */
    readonly TIMEOUT: 4080;
    /** too many subscriptions */
    readonly TOO_MANY: 4290;
    /** the action threw, or could not be queued */
    readonly ACTION_FAILED: 5000;
    /** the action pool's queue is full */
    readonly BUSY: 5030;
  }
  type CodeName = keyof CodeTable;
  /** Every code JS.CODES names. */
  type Code = CodeTable[CodeName];
  /** The WebSocket close codes JS.CODES names (RFC 6455's, the protocol's 4001-4005). */
  type CloseCode = CodeTable['NORMAL' | 'GOING_AWAY' | 'PROTOCOL_ERROR' | 'UNSUPPORTED_DATA' |
    'LOST' | 'INVALID_DATA' | 'POLICY' | 'TOO_BIG' | 'INTERNAL_ERROR' | 'SERVICE_RESTART' |
    'TRY_AGAIN_LATER' | 'BAD_GATEWAY' | 'SLOW_CONSUMER' | 'IDLE' | 'DROPPED' | 'REPLACED' |
    'EXPIRED'];
  /** The codes a command's Promise rejects with: the server's, and the page's TIMEOUT and LOST. */
  type CommandErrorCode = CodeTable['BAD_COMMAND' | 'REFUSED' | 'NOT_WRITABLE' | 'UNKNOWN' |
    'TIMEOUT' | 'TOO_MANY' | 'ACTION_FAILED' | 'BUSY' | 'LOST'];

  /**
   * The rejection of subscribe, unsubscribe, publish and request: code and
   * message are the server's (an err frame), or the page's own (TIMEOUT:
   * no answer in time; LOST: the connection was lost, or the engine is
   * stopped). A server's code this version does not name passes as it is.
   */
  interface CommandError extends Error {
    code: CommandErrorCode | (number & {});
  }

  /**
   * Bytes a page publishes (docs/protocol.md section 11): an ArrayBuffer,
   * a typed array or a DataView, copied at the call and sent as a binary
   * message on WebSocket, in base64 over the HTTP transports.
   */
  type Bytes = ArrayBuffer | ArrayBufferView;
  /**
   * A channel's data as the listeners get it: the server's JSON value, or
   * for a message of bytes a Uint8Array (on every transport). unknown,
   * since the server decides; narrow it before use.
   */
  type ChannelData = unknown;

  /** A handshake's param: an object (a=1&b=x%20y; arrays repeat the key) or an encoded query. */
  type Param = string | { [name: string]: ParamValue | ParamValue[] };
  type ParamValue = string | number | boolean | null | undefined;

  /** What the server placed a channel at: [epoch, offset]. */
  type Position = [epoch: string, offset: number];
  /** channel -> position. */
  interface Positions { [channel: string]: Position }

  /** A WebSocket constructor (the browser's, or node's `ws`). */
  interface WebSocketConstructor {
    new (url: string): WebSocketLike;
  }
  /** What the engine uses of a WebSocket; it sets the on* handlers itself. */
  interface WebSocketLike {
    readonly readyState: number;
    /** the engine sets 'arraybuffer' (messages of bytes come as binary frames) */
    binaryType?: string;
    /** a string; a pub of bytes as one binary message (an ArrayBuffer) */
    send(data: string | ArrayBuffer): void;
    close(code?: number, reason?: string): void;
  }

  /** The engine's options (new JS.CometEngine(options), start's third argument, config()). */
  interface EngineOptions {
    /** 'auto' (default): WebSocket, then stream, then lpool; one of them: that one only. */
    workStyle?: WorkStyleOption;
    /** ms for the handshake's answer (10000). */
    handshakeTimeout?: number;
    /** ms from opening a transport to the server's open frame (10000). */
    openTimeout?: number;
    /** scale of the first reconnect delay, ms (500). */
    retryMin?: number;
    /** cap of the doubling reconnect delay, ms (10000). */
    retryMax?: number;
    /** ms between pings; 0 (default): the server's. */
    heartbeat?: number;
    /** silent heartbeats before a reconnect (2). */
    deadBeats?: number;
    /** ms a command waits for its answer (15000). */
    requestTimeout?: number;
    /** the count {workerIndex} stands for (overrides the handshake's). */
    workers?: number;
    /** ['ws://host:port/ws', ...]: the nodes, instead of the handshake's lists. */
    endpoints?: string[];
    /** a WebSocket constructor (node, tests). */
    WebSocket?: WebSocketConstructor;
  }
  /** engine.options: the defaults merged with what the page gave. */
  type ResolvedEngineOptions = Required<Pick<EngineOptions, 'workStyle' | 'handshakeTimeout' |
    'openTimeout' | 'retryMin' | 'retryMax' | 'heartbeat' | 'deadBeats' | 'requestTimeout'>> &
    Pick<EngineOptions, 'workers' | 'endpoints' | 'WebSocket'>;

  /** request()'s third argument. */
  interface RequestOptions {
    /** ms, instead of the engine's requestTimeout. */
    timeout?: number;
  }

  /** Something that can be cancelled (an AJAX call). */
  interface Abortable {
    abort(): void;
  }

  // -------------------------------------------------------------------
  // Events: each event name with the arguments of its listeners
  // -------------------------------------------------------------------

  /** A listener of an event whose arguments are A, called with this = T. */
  type Handler<A extends unknown[], T> = (this: T, ...args: A) => unknown;
  /** An event map: event name -> the arguments of its listeners. */
  type EventMap<E> = { [K in keyof E]: unknown[] };
  /** An event map's names. */
  type EventName<E> = Extract<keyof E, string>;
  /** { name: listener } for on(map) and config.listeners. */
  type ListenerMap<E extends EventMap<E>, T> = { [K in EventName<E>]?: Handler<E[K], T> };
  /** The events of an Observable made without a map: any name, unknown arguments. */
  type AnyEvents = { [name: string]: unknown[] };

  /** JS.Engine's own events (every other name is a channel: ChannelArgs). */
  interface EngineEvents {
    /** open: cId, the channels of the handshake. */
    start: [cId: string, channels: string[], engine: CometEngine];
    /** lost (then retried, unless autoReconnect is off or the cause is not retried) or stopped. */
    stop: [cause: StopCause, cId: string, url: string, engine: CometEngine];
    /** after a reconnect, per channel with a position: false means messages were lost (lost: how
     * many, when the server knows); also while connected, false with lost. */
    recovered: [recovered: boolean, channel: string, engine: CometEngine, lost?: number];
    /** someone's connection subscribed to a presence channel this page is on (user null:
     * anonymous). */
    join: [channel: string, user: string | null, cId: string, engine: CometEngine];
    /** someone's connection left a presence channel this page is on. */
    leave: [channel: string, user: string | null, cId: string, engine: CometEngine];
  }
  /** A channel's message: its data (the server's JSON value, or a Uint8Array for bytes:
   * ChannelData), its time (ms since 1970). */
  type ChannelArgs = [data: ChannelData, time: number, engine: CometEngine];
  /** The arguments of the engine's event name N: its own, or a channel's. */
  type EngineArgs<N> = N extends keyof EngineEvents ? EngineEvents[N] : ChannelArgs;
  /** { name: listener } for JS.Engine.on(map): its own events and channels. */
  type EngineListenerMap<M, T> = { [K in keyof M]: Handler<EngineArgs<K>, T> };

  /** JS.Connector's events (Comet4J's, and this client's recovered, join, leave). */
  interface ConnectorEvents {
    /** start() was called; false: no start. */
    beforeConnect: [url: string, conn: Connector];
    /** a connection is open with a connection id the connector had not announced. */
    connect: [cId: string, channels: string[], workStyle: WorkStyle, timeout: number,
      conn: Connector];
    /** a message of any channel (data: JSON, or a Uint8Array for bytes: ChannelData). */
    message: [channel: string, data: ChannelData, time: number, conn: Connector];
    /** the connection came back with the same id, or a long-poll sent its next poll. */
    revival: [url: string, cId: string, conn: Connector];
    /** stop(cause) was called, or the connector gives up; false keeps it going (when it can). */
    beforeStop: [cause: StopCause, cId: string, url: string, conn: Connector];
    /** stopped for good. */
    stop: [cause: StopCause, cId: string, url: string, conn: Connector];
    recovered: [recovered: boolean, channel: string, conn: Connector];
    join: [channel: string, user: string | null, cId: string, conn: Connector];
    leave: [channel: string, user: string | null, cId: string, conn: Connector];
  }

  /** JS.XMLHttpRequest's events; realXhr is the request object underneath. */
  interface XHREvents {
    readyStateChange: [readyState: number, status: number, xhr: XMLHttpRequest,
      realXhr: RawXHR];
    /** readyState 3 with a 2xx status */
    progress: [xhr: XMLHttpRequest, realXhr: RawXHR];
    /** done with a 2xx status */
    load: [xhr: XMLHttpRequest, realXhr: RawXHR];
    /** done with status 0 (network error, abort) or >= 400 (but 408) */
    error: [xhr: XMLHttpRequest, realXhr: RawXHR];
    /** done with 408, or no change for timeout ms */
    timeout: [xhr: XMLHttpRequest, realXhr: RawXHR];
    /** abort() was called */
    abort: [xhr: XMLHttpRequest, realXhr: RawXHR];
  }

  // -------------------------------------------------------------------
  // JS.Engine: this client's engine
  // -------------------------------------------------------------------

  /**
   * The engine (JS.Engine is one; new JS.CometEngine(options) makes
   * another). A JS.Observable at run time (instanceof), with every method
   * of one its own, and exact event names: 'start', 'stop', 'recovered',
   * 'join', 'leave' and the channels. Listeners run with this = the scope
   * given, or the engine; they stay after stop().
   */
  class CometEngine {
    constructor(options?: EngineOptions);
    /** The options in use (see EngineOptions). */
    options: ResolvedEngineOptions;
    /** true between the 'start' and 'stop' events. */
    running: boolean;
    /** Reconnect after a loss (true); false: a lost connection stays stopped. */
    autoReconnect: boolean;
    /** This engine's JS.Connector (Comet4J's face of it). */
    connector: Connector;

    /** Merges options into engine.options. */
    config(options?: EngineOptions): this;
    /**
     * Connects to url (CometServlet's mapping, e.g. 'conn'; the last url
     * when none is given); param goes with the handshake. Ignored while
     * started, or when the connector's beforeConnect says false.
     */
    start(url?: string, param?: Param, options?: EngineOptions): this;
    /** Closes and fires 'stop' with cause ('stop' when none is given). */
    stop(cause?: string): this;
    /** The connection id ('' when not connected). */
    getId(): string;
    getConnector(): Connector;

    /** Subscribes to channel; resolves once the server placed it. */
    subscribe(channel: string): Promise<void>;
    unsubscribe(channel: string): Promise<void>;
    /** Publishes bytes on a client-writable channel: one binary message (a byte[] for the
     * server's listeners, a Uint8Array for the pages'). */
    publish(channel: string, data: Bytes): Promise<void>;
    /** Publishes data (any JSON value) on a client-writable channel. */
    publish(channel: string, data?: unknown): Promise<void>;
    /** Calls the server's action route; resolves with its result (R: what the page expects). */
    request<R = unknown>(route: string, params?: unknown, options?: RequestOptions): Promise<R>;

    /** Comet4J's on(map, fn, scope) */
    on<M extends object, S>(map: EngineListenerMap<M, S>, fn: null | undefined, scope: S): this;
    /** on({name: fn, ...}[, scope]) */
    on<M extends object, S = this>(map: EngineListenerMap<M, S>, scope?: S | null): this;
    /** on(name, fn[, scope]): an own event or a channel; this = scope, or the engine. */
    on<N extends string, S = this>(name: N, fn: Handler<EngineArgs<N>, S>, scope?: S | null,
      o?: unknown): this;
    addListener<N extends string, S = this>(name: N, fn: Handler<EngineArgs<N>, S>,
      scope?: S | null, o?: unknown): this;
    addListeners<M extends object, S = this>(map: EngineListenerMap<M, S>, scope?: S | null,
      o?: unknown): this;
    /** Without fn: every listener of name. */
    removeListener<M extends object>(map: EngineListenerMap<M, any>): this;
    removeListener<N extends string>(name: N, fn?: Handler<EngineArgs<N>, any>,
      scope?: unknown): this;
    un<M extends object>(map: EngineListenerMap<M, any>): this;
    un<N extends string>(name: N, fn?: Handler<EngineArgs<N>, any>, scope?: unknown): this;
    /** Runs the listeners of name (what they return means nothing). */
    fire<K extends keyof EngineEvents>(name: K, ...args: EngineEvents[K]): void;
    fire(channel: string, ...args: ChannelArgs): void;
    /** Comet4J's: false stops the rest and is returned; true when all ran; undefined: none. */
    fireEvent<K extends keyof EngineEvents>(name: K, ...args: EngineEvents[K]): boolean | undefined;
    fireEvent(channel: string, ...args: ChannelArgs): boolean | undefined;
    addEvent(name: string): void;
    addEvents(names: string[]): void;
    addEvents(...names: string[]): void;
    hasEvent(name: string): boolean;
    hasListener(name: string, fn?: Handler<any, any>, scope?: unknown): boolean;
    removeEvent(name: string): void;
    removeEvents(names: string | string[]): void;
    clearListeners(): void;
    clearEvents(): void;
    /** Do nothing, as in Comet4J. */
    suspendEvents(): void;
    resumeEvents(): void;
  }

  /** The page's engine. */
  const Engine: CometEngine;

  // -------------------------------------------------------------------
  // JS.Connector: Comet4J's connector, over an engine
  // -------------------------------------------------------------------

  /** new JS.Connector(config): Comet4J's config, and the engine's options. */
  interface ConnectorConfig extends EngineOptions {
    url?: string;
    param?: Param;
    /** consecutive failed tries before it gives up (3) */
    retryCount?: number;
    /** ms, the scale of the first reconnect delay (1000: the engine's retryMin) */
    retryDelay?: number;
    /** kept, unused */
    revivalDelay?: number;
    events?: string[];
    listeners?: ListenerMap<ConnectorEvents, Connector>;
  }

  /**
   * JS.Engine.getConnector() (the engine's own: its start and stop are
   * the engine's), or new JS.Connector(config): one alone, over an engine
   * of its own. Listeners run with this = the scope given, or the connector.
   */
  class Connector extends Observable<ConnectorEvents> {
    constructor(config?: ConnectorConfig);
    static superclass: Observable<AnyEvents>;
    static override(o: object): void;
    static extend(o: object): ExtendedClass<typeof Connector, object>;

    version: string;
    readonly SYSCHANNEL: 'c4j';
    readonly LLOOPSTYLE: 'lpool';
    readonly STREAMSTYLE: 'stream';
    readonly CMDTAG: 'cmd';
    retryCount: number;
    retryDelay: number;
    currRetry: number;
    url: string;
    param: Param;
    revivalDelay: number;
    /** the connection id ('' when not connected) */
    cId: string;
    channels: string[];
    /** the transport in use; before start, the one to force ('' or 'auto': any) */
    workStyle: WorkStyleOption | '';
    emptyUrlError: string;
    runningError: string;
    dataFormatError: string;
    running: boolean;
    /** Comet4J's request object: its events do not fire; its abort() cuts the connection. */
    _xhr: XMLHttpRequest;
    lastReceiveMessage: string;
    retryMin?: number;
    retryMax?: number;
    handshakeTimeout?: number;
    openTimeout?: number;
    heartbeat?: number;
    deadBeats?: number;
    requestTimeout?: number;
    workers?: number;
    endpoints?: string[];
    WebSocket?: WebSocketConstructor;

    start(url?: string, param?: Param): void;
    stop(cause?: string): void;
    getId(): string;
    /** A query string with the & it is appended with. */
    perfectParam<P extends Param | undefined>(param: P): P;
    /** Asks the server to drop the connection now (stream and lpool). */
    doDrop(unloading?: boolean): void;
    subscribe(channel: string): Promise<void>;
    unsubscribe(channel: string): Promise<void>;
    /** bytes: a binary message (see CometEngine.publish) */
    publish(channel: string, data: Bytes): Promise<void>;
    publish(channel: string, data?: unknown): Promise<void>;
    request<R = unknown>(route: string, params?: unknown, options?: RequestOptions): Promise<R>;
    superclass(): Observable<AnyEvents>;
    supr(): Observable<AnyEvents>;
    override(o: object): void;
  }

  // -------------------------------------------------------------------
  // Comet4J's JS.js: the runtime, the syntax helpers, DOM events, tasks
  // -------------------------------------------------------------------

  /** The browser, read from the user agent once (all false without one). */
  interface RuntimeFlags {
    isOpera: boolean;
    isFirefox: boolean;
    isChrome: boolean;
    isWebKit: boolean;
    isSafari: boolean;
    isSafari2: boolean;
    isSafari3: boolean;
    isSafari4: boolean;
    isIE: boolean;
    isIE7: boolean;
    isIE8: boolean;
    /** MSIE 6 (Comet4J: any IE but 7 and 8) */
    isIE6: boolean;
    isGecko: boolean;
    isGecko2: boolean;
    isGecko3: boolean;
    isWindows: boolean;
    isMac: boolean;
    isAir: boolean;
    isLinux: boolean;
  }
  const Runtime: RuntimeFlags;
  const isOpera: boolean;
  const isFirefox: boolean;
  const isChrome: boolean;
  const isWebKit: boolean;
  const isSafari: boolean;
  const isSafari2: boolean;
  const isSafari3: boolean;
  const isSafari4: boolean;
  const isIE: boolean;
  const isIE7: boolean;
  const isIE8: boolean;
  const isIE6: boolean;
  const isGecko: boolean;
  const isGecko2: boolean;
  const isGecko3: boolean;
  const isWindows: boolean;
  const isMac: boolean;
  const isAir: boolean;
  const isLinux: boolean;

  /** console.log(str) where there is a console. */
  function log(str: unknown): void;
  /**
   * Makes each dotted path of objects from the global object (a path that
   * starts with JS starts from JS), keeping what exists; returns the last
   * object made or found (undefined without a name).
   */
  function ns(name: string, ...more: string[]): { [key: string]: unknown };
  function ns(): undefined;
  /** Copies the properties of defaults, then of c, onto o; returns o. */
  function apply<T extends object, C = {}, D = {}>(o: T, c?: C | null,
    defaults?: D | null): T & C & D;
  /** Copies overrides onto the prototype of cls (toString too). */
  function override(cls: { prototype: object }, overrides?: object | null): void;

  /** What a JS.extend subclass's instances have besides their class's members. */
  interface ExtendedInstance<P> {
    /** the superclass's prototype */
    superclass(): P;
    supr(): P;
    /** copies o onto this instance */
    override(o: object): void;
  }
  /** A class (a constructor function) as JS.extend takes one. */
  type Constructor = abstract new (...args: any[]) => object;
  /** Constructor parameters: overrides.constructor's, if it has its own; else the superclass's. */
  type ExtendedParams<S extends Constructor, O> =
    O extends { constructor: (...args: infer A) => unknown } ? A : ConstructorParameters<S>;
  /** The class JS.extend(Super, overrides) makes. */
  interface ExtendedClass<S extends Constructor, O> {
    new (...args: ExtendedParams<S, O>): InstanceType<S> & Omit<O, 'constructor'> &
      ExtendedInstance<InstanceType<S>>;
    prototype: InstanceType<S> & Omit<O, 'constructor'>;
    /** Super.prototype (so superclass.constructor is Super) */
    superclass: InstanceType<S>;
    override(o: object): void;
    extend<O2 extends object>(o: O2 & ThisType<InstanceType<S> & Omit<O, 'constructor'> &
      Omit<O2, 'constructor'> & ExtendedInstance<InstanceType<S>>>):
      ExtendedClass<ExtendedClass<S, O>, O2>;
  }
  /**
   * Subclassing: Sub = extend(Super, overrides), where Sub is
   * overrides.constructor if it has one of its own, else a function that
   * calls Super with its arguments; or extend(Sub, Super, overrides).
   */
  function extend<S extends Constructor, O extends object>(sup: S,
    overrides: O & ThisType<InstanceType<S> & Omit<O, 'constructor'> &
      ExtendedInstance<InstanceType<S>>>): ExtendedClass<S, O>;
  function extend<C extends Constructor, S extends Constructor>(sub: C, sup: S,
    overrides?: object): C & { superclass: InstanceType<S>; override(o: object): void;
      extend(o: object): ExtendedClass<C, object> };
  /** fn.apply(scope || the global object, args || []) when fn is a function; else undefined. */
  function callBack<F extends (...args: any[]) => unknown>(fn: F, scope?: unknown,
    args?: Parameters<F>): ReturnType<F>;
  function callBack(fn: unknown, scope?: unknown, args?: ArrayLike<unknown>): unknown;
  /** null, undefined, an empty array, or '' (unless allowBlank). */
  function isEmpty(v: unknown, allowBlank?: boolean): boolean;
  function isArray(v: unknown): v is unknown[];
  function isDate(v: unknown): v is Date;
  /** a plain object ([object Object]) */
  function isObject(v: unknown): v is { [key: string]: unknown };
  function isPrimitive(v: unknown): v is string | number | boolean;
  function isFunction(v: unknown): v is (...args: any[]) => unknown;
  /** a finite number */
  function isNumber(v: unknown): v is number;
  function isString(v: unknown): v is string;
  function isBoolean(v: unknown): v is boolean;
  /** has a tagName */
  function isElement(v: unknown): boolean;
  function isDefined<T>(v: T | undefined): v is T;
  /** An array of a[i..j) for anything with a length. */
  function toArray<T>(a: ArrayLike<T>, i?: number, j?: number): T[];

  /** JS.Syntax: the same helpers under Comet4J's object (nameSpace is JS.ns). */
  interface SyntaxHelpers {
    log: typeof log;
    nameSpace: typeof ns;
    apply: typeof apply;
    override: typeof override;
    extend: typeof extend;
    callBack: typeof callBack;
    isEmpty: typeof isEmpty;
    isArray: typeof isArray;
    isDate: typeof isDate;
    isObject: typeof isObject;
    isPrimitive: typeof isPrimitive;
    isFunction: typeof isFunction;
    isNumber: typeof isNumber;
    isString: typeof isString;
    isBoolean: typeof isBoolean;
    isElement: typeof isElement;
    isDefined: typeof isDefined;
    toArray: typeof toArray;
  }
  const Syntax: SyntaxHelpers;

  /** The DOM's Event where the DOM's types are in the program, else what DomEvent.stop uses. */
  type DomEventObject = typeof globalThis extends { Event: { prototype: infer E } } ? E :
    DomEventLike;
  /** What DomEvent.stop and stopPropagation set or call, where there. */
  interface DomEventLike {
    returnValue?: boolean;
    cancelBubble?: boolean;
    preventDefault?(): void;
    stopPropagation?(): void;
  }
  /** An element, or anything with addEventListener (or old IE's attachEvent). */
  interface DomTarget {
    addEventListener?(name: string, fn: any, capture?: boolean): void;
    removeEventListener?(name: string, fn: any, capture?: boolean): void;
    attachEvent?(name: string, fn: any): unknown;
    detachEvent?(name: string, fn: any): unknown;
  }
  /** A DOM listener, with this = the scope given, or the element. */
  type DomHandler<T> = (this: T, ev: DomEventObject) => unknown;
  /** DOM listeners: on(el, name, fn[, scope]); un removes one added with or without a scope. */
  interface DomEvents {
    on<E extends DomTarget>(el: E, name: string, fn: DomHandler<E>): void;
    on<S>(el: DomTarget, name: string, fn: DomHandler<S>, scope: S): void;
    un(el: DomTarget, name: string, fn: DomHandler<any>, scope?: unknown): void;
    /** Prevents the default action and stops the event where it is. */
    stop(e: DomEventLike): void;
    stopPropagation(e: DomEventLike): void;
  }
  const DomEvent: DomEvents;
  const on: DomEvents['on'];
  const un: DomEvents['un'];

  /** One call, later; a new delay replaces the last (fn, scope and args given stay). */
  class DelayedTask<A extends unknown[] = unknown[], S = unknown> {
    constructor(fn: (this: S, ...args: A) => unknown, scope?: S, args?: A);
    delay(ms: number, fn?: (this: S, ...args: A) => unknown, scope?: S, args?: A): void;
    cancel(): void;
  }

  // -------------------------------------------------------------------
  // Comet4J's Observable.js
  // -------------------------------------------------------------------

  /** new JS.Observable(config): config is copied onto the object. */
  type ObservableConfig<E extends EventMap<E>> = {
    /** names to declare */
    events?: string[];
    /** { name: listener } to add */
    listeners?: ListenerMap<E, Observable<E>>;
    [key: string]: unknown;
  };

  /**
   * Comet4J's events, with E (event name -> the listeners' arguments)
   * naming them: new JS.Observable<{ ready: [when: number] }>(). Names are
   * not case-sensitive at run time. Listeners run in the order added,
   * with this = the scope given, or the observable; fireEvent stops at the
   * first that returns false.
   */
  class Observable<E extends EventMap<E> = AnyEvents> {
    constructor(config?: ObservableConfig<E>);
    /** lower-cased name -> true (declared) or the JS.Event with its listeners */
    events?: { [name: string]: true | Event };

    /** Comet4J's on(map, fn, scope) */
    on<S>(map: ListenerMap<E, S>, fn: null | undefined, scope: S): void;
    /** on({name: fn, ...}[, scope]) */
    on<S = this>(map: ListenerMap<E, S>, scope?: S | null): void;
    /** on(name, fn[, scope]): fn runs with this = scope, or the observable. */
    on<K extends EventName<E>, S = this>(name: K, fn: Handler<E[K], S>, scope?: S | null,
      o?: unknown): void;
    addListener<K extends EventName<E>, S = this>(name: K, fn: Handler<E[K], S>,
      scope?: S | null, o?: unknown): void;
    addListeners<S = this>(map: ListenerMap<E, S>, scope?: S | null, o?: unknown): void;
    /** Without fn: every listener of the event. */
    removeListener<K extends EventName<E>>(name: K, fn?: Handler<E[K], any>,
      scope?: unknown): void;
    un<K extends EventName<E>>(name: K, fn?: Handler<E[K], any>, scope?: unknown): void;
    /** false when a listener returned false (the rest did not run), true when all ran,
     * undefined when the event has no listener list. */
    fireEvent<K extends EventName<E>>(name: K, ...args: E[K]): boolean | undefined;
    addEvent(name: string | Event): void;
    addEvents(names: string[]): void;
    addEvents(...names: string[]): void;
    removeEvent(name: string): void;
    removeEvents(names: string | string[]): void;
    hasEvent(name: string): boolean;
    hasListener(name: string, fn?: Handler<any, any>, scope?: unknown): boolean;
    /** Removes every listener; the events stay declared. */
    clearListeners(): void;
    clearEvents(): void;
    /** Do nothing, as in Comet4J. */
    suspendEvents(): void;
    resumeEvents(): void;
  }

  /** One event of an Observable (its caller) and its listeners, in the order added. */
  class Event<A extends unknown[] = unknown[]> {
    constructor(name: string, caller: object);
    /** lower-cased */
    name: string;
    caller: object;
    listeners: Listener[];
    /** false as soon as a listener returns false (the rest do not run), else true. */
    fire(...args: A): boolean;
    addListener(fn: Handler<A, any>, scope?: unknown, o?: unknown): void;
    removeListener(fn: Handler<A, any>, scope?: unknown): void;
    /** The index of fn's listener, or -1. */
    hasListener(fn: Handler<A, any>, scope?: unknown): number;
    clearListeners(): void;
  }

  /** One listener: fn with its scope, and Comet4J's unused option object. */
  class Listener {
    constructor(fn: Handler<any, any>, scope?: unknown, o?: unknown);
    handler: Handler<any, any>;
    scope: unknown;
    o: unknown;
    execute(...args: unknown[]): unknown;
    equal(fn: Handler<any, any>, scope?: unknown): boolean;
    clear(): void;
  }

  // -------------------------------------------------------------------
  // Comet4J's XMLHttpRequest.js and AJAX.js
  // -------------------------------------------------------------------

  /** RFC 2616's reason phrases by status, and six names. */
  interface HTTPStatusTable {
    readonly [status: number]: string;
    readonly OK: 200;
    readonly BADREQUEST: 400;
    readonly FORBIDDEN: 403;
    readonly NOTFOUND: 404;
    readonly TIMEOUT: 408;
    readonly SERVERERROR: 500;
  }
  const HTTPStatus: HTTPStatusTable;

  /** The DOM's Document where the DOM's types are in the program, else unknown. */
  type XMLDocument = typeof globalThis extends { Document: { prototype: infer D } } ? D : unknown;

  /** The request object underneath: the browser's XMLHttpRequest, an ActiveX one, or
   * comet4j.js's own over fetch (node, workers). */
  interface RawXHR {
    readonly readyState: number;
    readonly status: number;
    readonly statusText: string;
    readonly responseText: string;
    readonly responseXML?: XMLDocument | null;
    withCredentials?: boolean;
    onreadystatechange: ((...args: any[]) => unknown) | null;
    open(method: string, url: string, async?: boolean, username?: string | null,
      password?: string | null): void;
    send(body?: any): void;
    abort(): void;
    setRequestHeader(name: string, value: string): void;
    getResponseHeader(name: string): string | null;
    getAllResponseHeaders(): string;
  }

  /** new JS.XMLHttpRequest(config) */
  interface XHRConfig {
    /** false (default): open adds ram=<random> to the URL */
    enableCache?: boolean;
    /** ms (30000); 0 for none */
    timeout?: number;
    /** an ActiveX name, or a request object to use instead */
    specialXHR?: string | RawXHR;
    events?: string[];
    listeners?: ListenerMap<XHREvents, XMLHttpRequest>;
  }

  /** An XMLHttpRequest with Comet4J's events (XHREvents). */
  class XMLHttpRequest extends Observable<XHREvents> {
    constructor(config?: XHRConfig);
    static superclass: Observable<AnyEvents>;
    static override(o: object): void;
    static extend(o: object): ExtendedClass<typeof XMLHttpRequest, object>;

    enableCache: boolean;
    timeout: number;
    isAbort: boolean;
    specialXHR: string | RawXHR;
    _xhr: RawXHR | null;
    readyState: number;
    status: number;
    statusText: string;
    responseText: string;
    responseXML: XMLDocument | null;
    timeoutTask: DelayedTask | null;

    /** Restarts the timeout from now. */
    delayTimeout(): void;
    cancelTimeout(): void;
    /** The request object underneath, or null where none can be made. */
    createXmlHttpRequestObject(): RawXHR | null;
    doReadyStateChange(): void;
    /** The standard's handler, for a page that sets its own. */
    onreadystatechange(): void;
    /** async is true unless it is false. */
    open(method: string, url: string, async?: boolean, username?: string,
      password?: string): void;
    send(content?: unknown): void;
    abort(): void;
    setRequestHeader(header: string, value: string): void;
    getResponseHeader(header: string): string | null;
    getAllResponseHeaders(): string;
    /** The timeout, in ms. */
    setTimeout(ms: number): void;
    superclass(): Observable<AnyEvents>;
    supr(): Observable<AnyEvents>;
    override(o: object): void;
  }

  /** An AJAX answer: a String object of the response text, with the request's fields. */
  interface AjaxAnswer extends String {
    responseText: string;
    status: number;
    statusText: string;
    readyState: 4;
    responseXML: XMLDocument | null;
    getResponseHeader(name: string): string | null;
    getAllResponseHeaders(): string;
  }
  /** The request an AJAX callback gets second: the real XMLHttpRequest, or fetch's answer. */
  interface AjaxRequest {
    status: number;
    responseText: string;
    statusText?: string;
    getResponseHeader?(name: string): string | null;
    /** no answer in time */
    timedOut?: boolean;
  }
  /**
   * Comet4J's one request, one callback: get and post call back with
   * (answer, xhr) once the answer is complete, whatever its status;
   * getText with the text, getJson with the parsed JSON (not called back
   * if it is not JSON). this = scope (the global object without one).
   * asyn false: a synchronous request (where XMLHttpRequest exists).
   */
  interface Ajax {
    dataFormatError: string;
    urlError: string;
    get<S = unknown>(url: string, param?: Param | null,
      callback?: (this: S, answer: AjaxAnswer, xhr: AjaxRequest) => unknown, scope?: S,
      asyn?: boolean): Abortable;
    post<S = unknown>(url: string, param?: Param | null,
      callback?: (this: S, answer: AjaxAnswer, xhr: AjaxRequest) => unknown, scope?: S,
      asyn?: boolean): Abortable;
    getText<S = unknown>(url: string, param?: Param | null,
      callback?: (this: S, text: string) => unknown, scope?: S, asyn?: boolean): Abortable;
    getJson<S = unknown>(url: string, param?: Param | null,
      callback?: (this: S, json: unknown) => unknown, scope?: S, asyn?: boolean): Abortable;
  }
  const AJAX: Ajax;

  // -------------------------------------------------------------------
  // The codes, the protocol codec, the transports, the engine's parts
  // (exported for tests and for other clients; pages rarely need them)
  // -------------------------------------------------------------------

  const CODES: CodeTable;
  /** Close codes after which a reconnect would be refused again. */
  const NO_RETRY_CODES: { readonly [code: number]: true };
  /** Close codes that mean the node failed (its next try goes elsewhere). */
  const NODE_LOST_CODES: { readonly [code: number]: true };

  /** Server frames (docs/protocol.md). */
  interface OpenFrame { t: 'open'; cId?: string; channels?: string[]; pos?: Positions }
  interface MsgFrame {
    /** data: a JSON value, or a Uint8Array for a message of bytes (a binary frame, or "b64"
     * on SSE and long-poll, decoded) */
    t: 'msg'; ch: string; data: ChannelData; time: number;
    /** epoch and offset, when the server keeps a history */
    e?: string; o?: number;
    /** message id */
    u?: string;
  }
  interface PongFrame { t: 'pong' }
  interface RecoveredFrame { t: 'recovered'; ch: string; recovered: boolean }
  interface PresenceFrame { t: 'join' | 'leave'; ch: string; cId: string; user: string | null }
  interface AckFrame { t: 'ack'; id: number; pos?: Positions }
  interface ResFrame { t: 'res'; id: number; result: unknown }
  interface ErrFrame { t: 'err'; id: number; code: number; message: string }
  type AnswerFrame = AckFrame | ResFrame | ErrFrame;
  /** A message of bytes as decoded (Protocol.decodeBinary, or a frame with "b64"). */
  interface BinaryMsgFrame extends MsgFrame { data: Uint8Array }
  type ServerFrame = OpenFrame | MsgFrame | PongFrame | RecoveredFrame | PresenceFrame |
    AnswerFrame;
  /** Client frames; a command's id is set when it is made. */
  interface PingFrame { t: 'ping' }
  interface SubFrame { t: 'sub'; id?: number; ch: string }
  interface UnsubFrame { t: 'unsub'; id?: number; ch: string }
  /** data: a JSON value, or Bytes (then encode gives an EncodedBytes) */
  interface PubFrame { t: 'pub'; id?: number; ch: string; data: unknown }
  interface ReqFrame { t: 'req'; id?: number; route: string; params?: unknown }
  type CommandFrame = SubFrame | UnsubFrame | PubFrame | ReqFrame;
  type ClientFrame = PingFrame | CommandFrame;

  /** The URL lists of a handshake, one entry per node, the same index naming the same node. */
  interface NodeLists {
    endpoints: string[];
    stream: string[];
    lpool: string[];
    cmd: string[];
  }
  /** A decoded handshake answer (docs/protocol.md, sections 1 and 6). */
  interface Handshake extends NodeLists {
    cId: string;
    channels: string[];
    ticket: string;
    workStyle: WorkStyleOption;
    /** ms; 0: none */
    heartbeat: number;
    /** Comet.Timeout, ms; 0: none */
    timeout: number;
    connExpires: number;
  }
  /** The page's overrides of a handshake's nodes (EngineOptions' endpoints and workers). */
  interface PageNodes {
    endpoints?: string[];
    workers?: number;
  }

  /** A pub of bytes, encoded: its JSON form with "b64" (HTTP transports) and the binary
   * message (u16 n, the JSON head, the bytes) for WebSocket. */
  interface EncodedBytes { text: string; bytes: ArrayBuffer }
  /** JS.Protocol: encodes and decodes frames; decides nothing. */
  interface ProtocolCodec {
    readonly VERSION: 1;
    /** The frame's text; a pub whose data is Bytes gives an EncodedBytes. */
    encode(frame: PubFrame & { data: Bytes }): EncodedBytes;
    encode(frame: PingFrame | SubFrame | UnsubFrame | ReqFrame): string;
    encode(frame: ClientFrame): string | EncodedBytes;
    /** A binary frame (u16 n, a msg frame's JSON head, the bytes) as the message it carries,
     * data a Uint8Array over the same memory; null when it is not one. */
    decodeBinary(buffer: Bytes): BinaryMsgFrame | null;
    /** A frame, or null for anything that is not a well-formed one (text or a parsed object). */
    decode(text: string | object): ServerFrame | null;
    /** The handshake, or null if it lacks a ticket or a URL to attach to. */
    decodeHandshake(text: string, page?: PageNodes): Handshake | null;
    nodeLists(hs: NodeLists, workers?: number, page?: PageNodes): NodeLists;
    /** Each URL holding {workerIndex} becomes n URLs. */
    expandWorkers(urls: string[], n?: number): string[];
    /** The four lists for WebSocket URLs given by the page. */
    fromEndpoints(urls: string[]): NodeLists;
    /** A URL without its scheme and its last path segment. */
    nodeOf(url: string): string;
    urlsOf(hs: NodeLists, workStyle: WorkStyle): string[];
    /** URL-encoded JSON of the positions, or ''. */
    encodeSince(positions: Positions): string;
    /** The long-poll hold the server uses, ms. */
    pollHold(hs: { timeout: number }): number;
    ping(): PingFrame;
  }
  const Protocol: ProtocolCodec;

  /** What a transport reports to the engine. */
  interface TransportCallbacks {
    /** a frame as text, or already parsed (batches); aside: it answered a command */
    onFrame(frame: string | object, aside?: boolean): void;
    /** bytes arrived that carry no frame */
    onAlive(): void;
    /** closed without being asked; a WebSocket close code */
    onClose(code: number, reason: string): void;
    /** long-polling: a new request of the same attachment left */
    onRenew?(): void;
  }
  interface TransportOptions {
    WebSocket?: WebSocketConstructor;
    /** long-polling: ms before an unanswered poll means the connection is dead */
    pollTimeout?: number;
  }
  /** One transport: every one has this shape. */
  interface Transport {
    callbacks: TransportCallbacks;
    closed: boolean;
    /** since: the encoded resume position, or a function asked before every request */
    open(urls: { endpoint: string; cmd: string }, ticket: string,
      since: string | (() => string)): void;
    /** false if it cannot send; failed(status) if an HTTP POST is not answered 200; a pub of
     * bytes comes as Protocol.encode's EncodedBytes */
    send(text: string | EncodedBytes, failed?: (status: number) => void): boolean;
    /** no callback runs after it */
    close(): void;
  }
  interface TransportClass {
    new (callbacks: TransportCallbacks, options?: TransportOptions): Transport;
    readonly workStyle: WorkStyle;
    supported(options?: TransportOptions): boolean;
    /** it detects a dead connection by itself (long-polling) */
    readonly selfWatch?: boolean;
  }
  /** workStyle -> transport. */
  const Transports: { websocket: TransportClass; stream: TransportClass; lpool: TransportClass };
  /** The order of the automatic fallback. */
  const FALLBACK_ORDER: WorkStyle[];

  type SubscriptionState = 'subscribing' | 'subscribed' | 'unsubscribing';
  /** One channel as the page knows it: its resume position and state. */
  class Subscription {
    constructor(channel: string, state?: SubscriptionState);
    channel: string;
    state: SubscriptionState;
    placed: boolean;
    /** null until the server has given one */
    epoch: string | null;
    offset: number;
    positioned(): boolean;
    take(epoch: string, offset: number, newer?: boolean): boolean;
    advance(epoch: string, offset: number): boolean;
  }
  /** The engine's Subscription records, and the window of message ids delivered. */
  class SubscriptionTable {
    constructor();
    static IDS_KEPT: number;
    records: { [channel: string]: Subscription };
    ids: string[];
    reset(): void;
    get(channel: string): Subscription | undefined;
    ensure(channel: string, state?: SubscriptionState): Subscription;
    remove(channel: string): void;
    take(pos: unknown, newer?: boolean): void;
    fresh(f: MsgFrame): boolean;
    positions(): Positions;
    since(): string;
    commandMade(frame: CommandFrame): void;
    commandDone(frame: CommandFrame, answer: AckFrame | ResFrame | null): void;
  }

  /** One command, from its id to its settling. */
  interface Command {
    id: number;
    frame: CommandFrame;
    timer: unknown;
    done: boolean;
    resolve: (value: unknown) => void;
    reject: (err: CommandError) => void;
    promise: Promise<unknown>;
  }
  /** A transport's send as Commands uses it. */
  type SendFunction = (text: string | EncodedBytes, failed: (status: number) => void) => boolean;
  /** The page's commands until they are settled. */
  class Commands {
    constructor(settled?: (frame: CommandFrame, answer: AckFrame | ResFrame | null) => void);
    lastId: number;
    pending: { [id: number]: Command };
    queue: Command[];
    settled: ((frame: CommandFrame, answer: AckFrame | ResFrame | null) => void) | null;
    make(frame: CommandFrame, what: string, ms: number): Command;
    wait(cmd: Command): void;
    send(cmd: Command, send: SendFunction): void;
    flush(send: SendFunction): void;
    /** false when no command waits for it */
    answer(f: AnswerFrame): boolean;
    settle(cmd: Command, value: unknown, answer?: AckFrame | ResFrame): void;
    rejectAll(message: string, all?: boolean): void;
  }

  /** The node each try attaches to, and the nodes avoided since they failed. */
  class NodePicker {
    constructor(random?: () => number);
    static lost(cause: StopCause): boolean;
    random: () => number;
    avoided: { [node: string]: true };
    lastFailed: string;
    stay: string;
    current: string;
    reset(): void;
    /** The index in urls of the node to attach to. */
    pick(urls: string[]): number;
    avoid(node: string): void;
    closed(cause: StopCause): void;
  }
}
