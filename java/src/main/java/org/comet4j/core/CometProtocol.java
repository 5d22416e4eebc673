package org.comet4j.core;

/**
 * Comet4J's protocol and configuration names, kept so application code that
 * used them keeps compiling, plus the names comet4j-native adds.  The wire
 * protocol itself is described in docs/protocol.md.
 */
public class CometProtocol {

    /** Comet4J's class could be instantiated; it only holds constants. */
    public CometProtocol() {}

    /** Comet4J's system channel (its connect answer went there; comet4j-native's handshake is JSON). */
    public static final String SYS_CHANNEL = "c4j";
    /** The handshake parameter with the page's client version (CometConnection.getClientVersion). */
    public static final String FLAG_CLIENTVERSION = "cv";
    /** Comet4J's frame delimiters ({@link #encode}). */
    public static final String FLAG_DataStart = "<";
    public static final String FLAG_DataEnd = ">";

    /** The handshake servlet's action parameter and its actions. */
    public static final String FLAG_ACTION = "cmd";
    public static final String CMD_CONNECT = "conn";
    /** Comet4J's long-poll renewal; comet4j.js never sends it (its transports attach with a ticket). */
    public static final String CMD_REVIVAL = "revival";
    /** {@code cmd=drop&cid=<id>}: the page stops; the connection is dropped (BeforeDrop may veto). */
    public static final String CMD_DROP = "drop";
    /** Comet4J's status for an ended request; kept for old code. */
    public static final int HTTPSTATUS_TIMEOUT = 408;
    /** Comet4J's status for a failed request; kept for old code. */
    public static final int HTTPSTATUS_ERROR = 500;
    /** The connection id's name in the handshake answer and in tickets. */
    public static final String FLAG_ID = "cid";
    /**
     * The handshake parameter naming a connection the page had: if the
     * engine still holds it, the answer reuses it (FLAG_ID is accepted too).
     */
    public static final String FLAG_CID = "cId";

    public static final String WORKSTYLE_AUTO = "auto";
    public static final String WORKSTYLE_WEBSOCKET = "websocket";
    public static final String WORKSTYLE_STREAM = "stream";
    public static final String WORKSTYLE_LLOOP = "lpool";

    /** A connection attached and usable. */
    public static final String STATE_ALIVE = "alive";
    /** Comet4J's state between a lost request and the end; kept for old code. */
    public static final String STATE_DYING = "dying";
    /** The core reported the connection closed. */
    public static final String STATE_DROPPED = "dropped";

    /** How long one SSE or long-poll request is held, ms (Comet4J's meaning; default 60000). */
    public static final String CONFIG_TIMEOUT = "Comet.Timeout";
    /** Idle timeout: no byte from a client this long closes it (4002), ms; more than Comet.Heartbeat. */
    public static final String CONFIG_IDLETIMEOUT = "Comet.IdleTimeout";
    /** Comet4J's engine class parameter (see CometConfig: only the default engine runs). */
    public static final String CONFIG_ENGINE = "Comet.CometEngine";
    public static final String CONFIG_CACHEEXPIRES = "Comet.CacheExpires";
    public static final String CONFIG_CACHEFREQUENCY = "Comet.CacheFrequency";
    public static final String CONFIG_CONNEXPIRES = "Comet.ConnExpires";
    public static final String CONFIG_CONNFREQUENCY = "Comet.ConnFrequency";
    public static final String CONFIG_WORKSTYLE = "Comet.WorkStyle";
    public static final String CONFIG_DEBUG = "Comet.Debug";
    public static final String CONFIG_LANGUAGE = "Comet.Language";

    public static final String CONFIG_PORT = "Comet.Port";
    public static final String CONFIG_HOST = "Comet.Host";
    public static final String CONFIG_PUBLICURL = "Comet.PublicUrl";
    public static final String CONFIG_THREADS = "Comet.Threads";
    public static final String CONFIG_SECRET = "Comet.Secret";
    public static final String CONFIG_HEARTBEAT = "Comet.Heartbeat";
    public static final String CONFIG_MAXHEADER = "Comet.MaxHeader";
    public static final String CONFIG_HISTORYSIZE = "Comet.HistorySize";
    public static final String CONFIG_MAXFRAME = "Comet.MaxFrame";
    public static final String CONFIG_MAXMESSAGE = "Comet.MaxMessage";
    public static final String CONFIG_MAXQUEUE = "Comet.MaxQueue";
    public static final String CONFIG_MAXCONNECTIONS = "Comet.MaxConnections";
    /**
     * Comet.HandshakeTimeout: ms within which a request must arrive on the
     * native port (its head, and the body of a command or API request),
     * else 408; shorter while the core is more than half full (default
     * 10000).
     */
    public static final String CONFIG_HANDSHAKETIMEOUT = "Comet.HandshakeTimeout";
    /**
     * Comet.MaxPendingPerAddress: unfinished requests one client address
     * may hold while the core is at least half full, more get 429
     * (default 16; 0: no cap).
     */
    public static final String CONFIG_MAXPENDINGPERADDRESS = "Comet.MaxPendingPerAddress";
    public static final String CONFIG_ALLOWEDORIGINS = "Comet.AllowedOrigins";
    /**
     * Comet.TrustedProxies: the addresses (comma list) whose X-Forwarded-Proto
     * and Forwarded headers the handshake believes (a TLS proxy in front of
     * Tomcat); none by default.
     */
    public static final String CONFIG_TRUSTEDPROXIES = "Comet.TrustedProxies";
    public static final String CONFIG_TICKETTTL = "Comet.TicketTtl";
    public static final String CONFIG_ACTIONTIMEOUT = "Comet.ActionTimeout";
    public static final String CONFIG_ACTIONTHREADS = "Comet.ActionThreads";
    /** The key of the HTTP API on the native port (docs/protocol.md section 8); empty: off. */
    public static final String CONFIG_APIKEY = "Comet.ApiKey";
    /**
     * Who may read the Prometheus metrics (docs/metrics.md) at
     * {@code <context>/comet4j/metrics} and /metrics on Comet.Port: unset or
     * false (the default): nobody, the servlet is not registered; true: a
     * request carrying Comet.ApiKey as a bearer; else a comma list of client
     * IP addresses (which the key also opens when set).
     */
    public static final String CONFIG_METRICS = "Comet.Metrics";
    /**
     * Who may open the admin page {@code <context>/comet4j/admin}
     * (docs/metrics.md): the same values as {@link #CONFIG_METRICS}; with
     * true the page asks for Comet.ApiKey and sends it as a bearer.
     */
    public static final String CONFIG_ADMIN = "Comet.Admin";
    /** How nodes reach each other: "local" (the default) or redis://host[:port][/db] (docs/protocol.md section 9). */
    public static final String CONFIG_HUB = "Comet.Hub";
    /** Prefix of every Redis key and channel of the hub (default c4j): one cluster per prefix. */
    public static final String CONFIG_HUBPREFIX = "Comet.HubPrefix";
    /** With a Redis hub, whether this node runs page requests (true, the default) or queues them for others. */
    public static final String CONFIG_LISTENACTIONS = "Comet.ListenActions";
    /**
     * With a Redis hub, how many records (broadcasts, sends, commands) this
     * node keeps until Redis has them, while Redis is down or slow (default
     * 100000); a send beyond it, or beyond Comet.HubOutboxBytes, is refused
     * (docs/protocol.md section 9).
     */
    public static final String CONFIG_HUBOUTBOXRECORDS = "Comet.HubOutboxRecords";
    /** The same bound in bytes (default 67108864, 64 MiB). */
    public static final String CONFIG_HUBOUTBOXBYTES = "Comet.HubOutboxBytes";
    /**
     * Broadcasts Redis keeps per channel (at least Comet.HistorySize) for a
     * node that was cut off to fetch what it missed (default 100000).
     */
    public static final String CONFIG_HUBCATCHUPRECORDS = "Comet.HubCatchUpRecords";
    /** Bytes of live records a node holds while it fetches what it missed (default 67108864). */
    public static final String CONFIG_HUBCATCHUPBYTES = "Comet.HubCatchUpBytes";
    /**
     * permessage-deflate (RFC 7692) on the core's WebSockets: "true" (the
     * default) negotiates it with a browser that offers it, "false" never.
     */
    public static final String CONFIG_DEFLATE = "Comet.Deflate";
    /** How many nodes a Comet.PublicUrl entry with {workerIndex} stands for (0 to count-1; default 1). */
    public static final String CONFIG_WORKERS = "Comet.Workers";
    /**
     * TLS on the native port (Comet.Port): the PEM file of its certificate
     * (then any chain) and, with Comet.TlsKey, of its private key; both or
     * neither (docs/protocol.md section 13).
     */
    public static final String CONFIG_TLSCERT = "Comet.TlsCert";
    /** The PEM file of Comet.TlsCert's private key (unencrypted). */
    public static final String CONFIG_TLSKEY = "Comet.TlsKey";
    /**
     * The URL pattern (e.g. /conn) at which the jar's ServletContainerInitializer
     * registers CometAppListener and CometServlet itself, for applications
     * without those lines in web.xml; absent or empty: it registers nothing.
     */
    public static final String CONFIG_MAPPING = "Comet.Mapping";

    /** Error codes of {"t":"err"} answers to client commands (docs/protocol.md section 7). */
    public static final int ERR_BAD_COMMAND = 4000;
    public static final int ERR_REFUSED = 4030;
    /** The handshake's Origin is not in Comet.AllowedOrigins (HTTP 403). */
    public static final int ERR_ORIGIN = 4033;
    public static final int ERR_NOT_WRITABLE = 4031;
    public static final int ERR_UNKNOWN = 4040;
    public static final int ERR_TIMEOUT = 4080;
    /** Too many subscriptions: the page has C4J_MAX_CHANNELS (256); only the core sends it. */
    public static final int ERR_TOO_MANY = 4290;
    public static final int ERR_ACTION = 5000;
    /**
     * The server cannot take the command now (the action pool's queue is
     * full, the hub's outbox is full, out of memory): retry later.
     */
    public static final int ERR_BUSY = 5030;

    /** Close code the core uses when the application drops a connection. */
    public static final int CLOSE_DROPPED = 4003;
    /** Close code of a transport whose connection id attached again elsewhere. */
    public static final int CLOSE_REPLACED = 4004;
    /** Close code in the DropEvent of a connection whose dying period (Comet.ConnExpires) ended. */
    public static final int CLOSE_EXPIRED = 4005;

    /**
     * Comet4J's frame encoding of a message: {@code <} + the URL-encoded
     * (UTF-8, spaces as %20) JSON of data + {@code >}.  comet4j-native's
     * transports carry plain JSON frames (docs/protocol.md); this is for
     * code that made Comet4J's frames itself.
     */
    public static String encode(Object data) {
        String json = org.comet4j.core.util.JSONUtil.object2json(data);
        String code = java.net.URLEncoder.encode(json, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
        return FLAG_DataStart + code + FLAG_DataEnd;
    }
}
