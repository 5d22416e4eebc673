package org.comet4j.core;

import static org.comet4j.core.CometProtocol.*;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.servlet.ServletContext;

import org.comet4j.core.exception.ConfigException;

/**
 * Every {@code Comet.*} setting, parsed and checked in one place.  The
 * servlet listener reads the web.xml context-params into a map and calls
 * {@link #parse(Map)}; tests and embedders call it with their own map.  A bad
 * value throws {@link ConfigException} whose message starts with the
 * parameter's name.  Instances are immutable.
 */
public final class CometConfig {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    /** Comet.Hub's default: this node is alone. */
    static final String HUB_LOCAL = "local";

    private static final Set<String> WORK_STYLES = Set.of(
            WORKSTYLE_AUTO, WORKSTYLE_WEBSOCKET, WORKSTYLE_STREAM, WORKSTYLE_LLOOP);

    /** redis://host[:port][/db]: a name, an IPv4 address or a bracketed IPv6 one. */
    private static final Pattern REDIS_URL = Pattern.compile(
            "redis://([A-Za-z0-9._-]+|\\[[0-9A-Fa-f:.]+\\])(?::([0-9]{1,5}))?(?:/([0-9]{1,9}))?");

    private static final Pattern HUB_PREFIX = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");

    private static final Set<String> PUBLIC_SCHEMES = Set.of("http", "https", "ws", "wss");

    private static final Set<String> KNOWN = Set.of(CONFIG_TRUSTEDPROXIES,
            CONFIG_TIMEOUT, CONFIG_CACHEEXPIRES, CONFIG_CACHEFREQUENCY, CONFIG_CONNEXPIRES,
            CONFIG_CONNFREQUENCY, CONFIG_WORKSTYLE, CONFIG_DEBUG, CONFIG_LANGUAGE, CONFIG_PORT,
            CONFIG_HOST, CONFIG_PUBLICURL, CONFIG_THREADS, CONFIG_SECRET, CONFIG_HEARTBEAT,
            CONFIG_MAXHEADER, CONFIG_HISTORYSIZE, CONFIG_MAXFRAME, CONFIG_MAXMESSAGE, CONFIG_MAXQUEUE,
            CONFIG_MAXCONNECTIONS, CONFIG_HANDSHAKETIMEOUT, CONFIG_MAXPENDINGPERADDRESS,
            CONFIG_ALLOWEDORIGINS, CONFIG_TICKETTTL,
            CONFIG_ACTIONTIMEOUT, CONFIG_ACTIONTHREADS, CONFIG_APIKEY, CONFIG_METRICS, CONFIG_ADMIN,
            CONFIG_HUB, CONFIG_HUBPREFIX, CONFIG_LISTENACTIONS, CONFIG_WORKERS,
            CONFIG_HUBOUTBOXRECORDS, CONFIG_HUBOUTBOXBYTES, CONFIG_HUBCATCHUPRECORDS,
            CONFIG_HUBCATCHUPBYTES, CONFIG_IDLETIMEOUT, CONFIG_ENGINE, CONFIG_TLSCERT, CONFIG_TLSKEY,
            CONFIG_DEFLATE,
            CONFIG_MAPPING, // read by CometInitializer, not here
            NativeLoader.PARAM, Logs.PARAM);

    /** The longest hold the core takes (c4j_config_t.hold_ms), and the longest dying period. */
    private static final int MAX_MS = 86400000;

    /** The language of the texts, parsed first: every message below is in it. */
    private final Locale locale;
    private final int timeout;
    private final int idleTimeout;
    private final String engineClass;
    private final int cacheExpires;
    private final int cacheFrequency;
    private final int connExpires;
    private final int connFrequency;
    private final String workStyle;
    private final boolean debug;
    /** Comet.LogLevel's (or Comet.Debug's) level of the org.comet4j logger; null: logging.properties'. */
    private final java.util.logging.Level logLevel;
    private final int port;
    private final String host;
    private final List<String> publicUrls;
    private final int threads;
    private final byte[] secret;
    private final int heartbeat;
    private final int maxHeader;
    private final int historySize;
    private final int maxFrame;
    private final int maxMessage;
    private final int maxQueue;
    private final int maxConnections;
    private final int handshakeTimeout;
    private final int maxPendingPerAddress;
    private final String allowedOrigins;
    private final Set<String> trustedProxies;
    private final int ticketTtl;
    private final int actionTimeout;
    private final int actionThreads;
    private final String apiKey;
    /** Comet.Metrics: null (off), "true", or the normalized address list. */
    private final String metrics;
    /** Comet.Admin: as metrics. */
    private final String admin;
    private final String hub;
    private final String hubPrefix;
    private final boolean listenActions;
    private final int hubOutboxRecords;
    private final int hubOutboxBytes;
    private final int hubCatchUpRecords;
    private final int hubCatchUpBytes;
    private final boolean deflate;
    private final String tlsCert;
    private final String tlsKey;

    private CometConfig(Map<String, String> p) {
        locale = language(p);
        // Comet4J's settings take every number Comet4J took: a negative time
        // is none (Comet.Timeout: not ended on time, as a container's async
        // timeout of 0 or less; the expiries: at once).
        timeout = intParam(p, CONFIG_TIMEOUT, 60000, Integer.MIN_VALUE, Integer.MAX_VALUE);
        cacheExpires = Math.max(0, intParam(p, CONFIG_CACHEEXPIRES, 60000, Integer.MIN_VALUE, Integer.MAX_VALUE));
        cacheFrequency = intParam(p, CONFIG_CACHEFREQUENCY, 60000, Integer.MIN_VALUE, Integer.MAX_VALUE);
        connExpires = Math.min(MAX_MS,
                Math.max(0, intParam(p, CONFIG_CONNEXPIRES, 5000, Integer.MIN_VALUE, Integer.MAX_VALUE)));
        connFrequency = intParam(p, CONFIG_CONNFREQUENCY, 5000, Integer.MIN_VALUE, Integer.MAX_VALUE);
        workStyle = choice(p, CONFIG_WORKSTYLE, WORKSTYLE_AUTO, WORK_STYLES);
        debug = debug(p);
        logLevel = Logs.level(raw(p, Logs.PARAM), debug, locale);
        engineClass = text(p, CONFIG_ENGINE, null);
        if (engineClass != null && !engineClass.equals(CometEngine.class.getName())) {
            LOG.warning(Language.text(locale, "EngineClass", CONFIG_ENGINE, engineClass));
        }
        port = intParam(p, CONFIG_PORT, ONE_PORT, -1, 65535);
        host = text(p, CONFIG_HOST, "0.0.0.0");
        publicUrls = urls(p);
        threads = intParam(p, CONFIG_THREADS, Runtime.getRuntime().availableProcessors(), 1, 1024);
        secret = secret(p);
        heartbeat = intParam(p, CONFIG_HEARTBEAT, 25000, 100, 3600000);
        idleTimeout = intParam(p, CONFIG_IDLETIMEOUT, Math.max(60000, 2 * heartbeat), 1000, MAX_MS);
        maxHeader = intParam(p, CONFIG_MAXHEADER, 16384, 512, 1 << 20);
        historySize = intParam(p, CONFIG_HISTORYSIZE, 1000, 0, 1000000);
        maxFrame = intParam(p, CONFIG_MAXFRAME, 65536, 16, Integer.MAX_VALUE);
        maxMessage = intParam(p, CONFIG_MAXMESSAGE, 65536, 16, Integer.MAX_VALUE);
        maxQueue = intParam(p, CONFIG_MAXQUEUE, 1048576, 1024, Integer.MAX_VALUE);
        maxConnections = intParam(p, CONFIG_MAXCONNECTIONS, 100000, 1, Integer.MAX_VALUE);
        handshakeTimeout = intParam(p, CONFIG_HANDSHAKETIMEOUT, 10000, 100, 600000);
        maxPendingPerAddress = intParam(p, CONFIG_MAXPENDINGPERADDRESS, 16, 0, 1000000);
        allowedOrigins = text(p, CONFIG_ALLOWEDORIGINS, "*");
        trustedProxies = addresses(p, CONFIG_TRUSTEDPROXIES);
        ticketTtl = intParam(p, CONFIG_TICKETTTL, 60, 1, 86400 * 365);
        actionTimeout = intParam(p, CONFIG_ACTIONTIMEOUT, 30000, 1, Integer.MAX_VALUE);
        actionThreads = intParam(p, CONFIG_ACTIONTHREADS, 16, 1, 1024);
        apiKey = text(p, CONFIG_APIKEY, "");
        if (!apiKey.isEmpty() && (apiKey.length() < 16 || apiKey.length() > 256
                || !apiKey.chars().allMatch(ch -> ch > ' ' && ch < 0x7f))) {
            throw new ConfigException(CONFIG_APIKEY, "must be 16 to 256 printable ASCII characters");
        }
        metrics = access(p, CONFIG_METRICS, apiKey, "the key Prometheus sends as a bearer");
        admin = access(p, CONFIG_ADMIN, apiKey, "the key the admin page asks for");
        hub = hub(p);
        hubPrefix = text(p, CONFIG_HUBPREFIX, "c4j");
        if (!HUB_PREFIX.matcher(hubPrefix).matches()) {
            throw new ConfigException(CONFIG_HUBPREFIX,
                    "must be 1 to 64 characters of A-Z a-z 0-9 _ . : - ('" + hubPrefix + "')");
        }
        listenActions = bool(p, CONFIG_LISTENACTIONS, true);
        hubOutboxRecords = intParam(p, CONFIG_HUBOUTBOXRECORDS, 100000, 1, 10000000);
        hubOutboxBytes = intParam(p, CONFIG_HUBOUTBOXBYTES, 64 << 20, 65536, Integer.MAX_VALUE);
        hubCatchUpRecords = intParam(p, CONFIG_HUBCATCHUPRECORDS, 100000, 0, 10000000);
        hubCatchUpBytes = intParam(p, CONFIG_HUBCATCHUPBYTES, 64 << 20, 65536, Integer.MAX_VALUE);
        deflate = bool(p, CONFIG_DEFLATE, true);
        if (port == -1 && publicUrls.isEmpty()) {
            throw new ConfigException(CONFIG_PUBLICURL, "required when " + CONFIG_PORT
                    + " is -1 (no listener here: it lists the nodes pages attach to)");
        }
        tlsCert = pemFile(p, CONFIG_TLSCERT);
        tlsKey = pemFile(p, CONFIG_TLSKEY);
        if ((tlsCert == null) != (tlsKey == null)) {
            String missing = tlsCert == null ? CONFIG_TLSCERT : CONFIG_TLSKEY;
            throw new ConfigException(missing, "required with " + (tlsCert == null ? CONFIG_TLSKEY : CONFIG_TLSCERT)
                    + " (TLS on the native port needs a PEM certificate and its private key)");
        }
        if (tlsCert != null && (port == ONE_PORT || port == -1)) {
            throw new ConfigException(CONFIG_TLSCERT, "TLS is for the native port: set " + CONFIG_PORT
                    + " (" + (port == -1 ? "-1 runs no listener" : "not set: one port, where the container's connector"
                    + " does TLS") + ")");
        }
        if (idleTimeout <= heartbeat) {
            throw new ConfigException(CONFIG_IDLETIMEOUT, Language.text(locale, "GreaterThan", CONFIG_HEARTBEAT,
                    heartbeat, idleTimeout));
        }
        for (String name : p.keySet()) {
            if (name.startsWith("Comet.") && !KNOWN.contains(name)) {
                LOG.warning(Language.text(locale, "UnknownParam", name));
            }
        }
    }

    /**
     * Parses settings from a map of parameter name to value.  Missing, null
     * and blank values take their defaults; names not starting with
     * {@code Comet.} are ignored.
     * @throws ConfigException naming the first bad parameter
     */
    public static CometConfig parse(Map<String, String> params) {
        return new CometConfig(params == null ? Collections.emptyMap() : params);
    }

    /** Every default: what a web.xml without Comet.* context-params gets. */
    public static CometConfig defaults() {
        return parse(Collections.emptyMap());
    }

    /** Reads the context-params whose names start with {@code Comet.}. */
    public static CometConfig fromServletContext(ServletContext ctx) {
        Map<String, String> map = new HashMap<>();
        for (Enumeration<String> e = ctx.getInitParameterNames(); e.hasMoreElements();) {
            String name = e.nextElement();
            if (name.startsWith("Comet.")) {
                map.put(name, ctx.getInitParameter(name));
            }
        }
        return parse(map);
    }

    // ---- parsing ---------------------------------------------------------

    private static String raw(Map<String, String> p, String name) {
        String v = p.get(name);
        if (v == null || v.trim().isEmpty()) {
            return null;
        }
        return v.trim();
    }

    private int intParam(Map<String, String> p, String name, int def, int min, int max) {
        String v = raw(p, name);
        if (v == null) {
            return def;
        }
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new ConfigException(name, Language.text(locale, "NotANumber", v));
        }
        if (n < min || n > max) {
            throw new ConfigException(name, Language.text(locale, "Between", min, max, v));
        }
        return (int) n;
    }

    private boolean bool(Map<String, String> p, String name, boolean def) {
        String v = raw(p, name);
        if (v == null) {
            return def;
        }
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        throw new ConfigException(name, Language.text(locale, "TrueFalse", v));
    }

    /**
     * Comet.Debug as Comet4J read it: true when "true" (any case here);
     * any other value leaves it off (with a warning), never stops start-up.
     */
    private boolean debug(Map<String, String> p) {
        String v = raw(p, CONFIG_DEBUG);
        if (v == null || v.equalsIgnoreCase("false")) {
            return false;
        }
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        LOG.warning(Language.text(locale, "DebugValue", CONFIG_DEBUG, v));
        return false;
    }

    /**
     * Comet.Metrics or Comet.Admin (name): null (unset or false), "true"
     * (needs the key, which is then what for), or its addresses, checked.
     */
    private static String access(Map<String, String> p, String name, String apiKey, String what) {
        String v = raw(p, name);
        if (v == null || v.trim().isEmpty() || v.trim().equalsIgnoreCase("false")) {
            return null;
        }
        if (v.trim().equalsIgnoreCase("true")) {
            if (apiKey.isEmpty()) {
                throw new ConfigException(name, "true needs " + CONFIG_APIKEY
                        + " (" + what + "), or list the addresses that may read");
            }
            return "true";
        }
        Set<String> list = addresses(p, name);
        if (list.isEmpty() || list.size() > 32) {
            throw new ConfigException(name, "true, false, or a comma list of up to 32 IP addresses");
        }
        return String.join(",", list);
    }

    /** A comma list of IP addresses, each checked. */
    private static Set<String> addresses(Map<String, String> p, String name) {
        String v = raw(p, name);
        if (v == null) {
            return Collections.emptySet();
        }
        Set<String> out = new java.util.HashSet<>();
        for (String s : v.split(",")) {
            s = s.trim();
            if (s.isEmpty()) {
                continue;
            }
            if (!s.matches("[0-9A-Fa-f:.]+") || !(s.contains(".") || s.contains(":"))) {
                throw new ConfigException(name, "not an IP address: '" + s + "'");
            }
            try {
                out.add(java.net.InetAddress.getByName(s).getHostAddress());
            } catch (java.net.UnknownHostException e) {
                throw new ConfigException(name, "not an IP address: '" + s + "'");
            }
        }
        return Collections.unmodifiableSet(out);
    }

    private static String text(Map<String, String> p, String name, String def) {
        String v = raw(p, name);
        return v == null ? def : v;
    }

    private String choice(Map<String, String> p, String name, String def, Set<String> allowed) {
        String v = raw(p, name);
        if (v == null) {
            return def;
        }
        if (!allowed.contains(v)) {
            throw new ConfigException(name, Language.text(locale, "OneOf", new java.util.TreeSet<>(allowed), v));
        }
        return v;
    }

    /**
     * Comet.Language: "zh" (or zh-CN, zh_TW...) gives Chinese texts, any
     * other value English (the texts exist in these two).  Not set:
     * English (Comet4J's default was zh, whose web.xml samples set it).
     * Never stops start-up: Comet4J took any value.
     */
    private static Locale language(Map<String, String> p) {
        String v = raw(p, CONFIG_LANGUAGE);
        if (v == null) {
            return Locale.ENGLISH;
        }
        Locale l = Locale.forLanguageTag(v.replace('_', '-'));
        if (l.getLanguage().equals("zh")) {
            return l.getCountry().isEmpty() ? Locale.CHINESE : l;
        }
        return l.getLanguage().equals("en") && !l.getCountry().isEmpty() ? l : Locale.ENGLISH;
    }

    /** The pattern in a Comet.PublicUrl entry that Comet.Workers expands. */
    static final String WORKER_INDEX = "{workerIndex}";

    private List<String> urls(Map<String, String> p) {
        int workers = intParam(p, CONFIG_WORKERS, 1, 1, 1000);
        String v = raw(p, CONFIG_PUBLICURL);
        if (v == null) {
            return Collections.emptyList();
        }
        List<String> out = new ArrayList<>();
        List<String> entries = new ArrayList<>();
        for (String s : v.split(",")) {
            s = s.trim();
            // ws://h:41{workerIndex}/ws with Comet.Workers=4: ...:410 to ...:413
            for (int i = 0; i < (s.contains(WORKER_INDEX) ? workers : 1); i++) {
                entries.add(s.replace(WORKER_INDEX, Integer.toString(i)));
            }
        }
        for (String s : entries) {
            if (s.isEmpty()) {
                continue;
            }
            try {
                URI u = new URI(s);
                String scheme = u.getScheme();
                if (scheme == null || !PUBLIC_SCHEMES.contains(scheme.toLowerCase(Locale.ROOT))
                        || u.getHost() == null) {
                    throw new ConfigException(CONFIG_PUBLICURL,
                            "not an http://, https://, ws:// or wss:// URL: '" + s + "'");
                }
            } catch (URISyntaxException e) {
                throw new ConfigException(CONFIG_PUBLICURL, "not a URL: '" + s + "'");
            }
            out.add(s);
        }
        return Collections.unmodifiableList(out);
    }

    /** A readable file's path (the core reads and checks its PEM), or null. */
    private static String pemFile(Map<String, String> p, String name) {
        String v = raw(p, name);
        if (v == null) {
            return null;
        }
        java.nio.file.Path f = java.nio.file.Paths.get(v);
        if (!java.nio.file.Files.isRegularFile(f)) {
            throw new ConfigException(name, "cannot read " + v + ": "
                    + (java.nio.file.Files.exists(f) ? "not a file" : "no such file"));
        }
        if (!java.nio.file.Files.isReadable(f)) {
            throw new ConfigException(name, "cannot read " + v + ": permission denied");
        }
        return v;
    }

    private static String hub(Map<String, String> p) {
        String v = raw(p, CONFIG_HUB);
        if (v == null || v.equals(HUB_LOCAL)) {
            return HUB_LOCAL;
        }
        Matcher m = REDIS_URL.matcher(v);
        if (!m.matches()) {
            throw new ConfigException(CONFIG_HUB, "must be local or redis://host[:port][/db]: '" + v + "'");
        }
        if (m.group(2) != null) {
            int port = Integer.parseInt(m.group(2));
            if (port < 1 || port > 65535) {
                throw new ConfigException(CONFIG_HUB, "port must be between 1 and 65535: '" + v + "'");
            }
        }
        return v;
    }

    private static byte[] secret(Map<String, String> p) {
        String v = p.get(CONFIG_SECRET); // not trimmed: spaces may be part of it
        if (v == null || v.isEmpty()) {
            byte[] b = new byte[32];
            new SecureRandom().nextBytes(b);
            return b;
        }
        byte[] b = v.getBytes(StandardCharsets.UTF_8);
        if (b.length < 16) {
            throw new ConfigException(CONFIG_SECRET, "must be at least 16 bytes, got " + b.length);
        }
        return b;
    }

    // ---- getters -----------------------------------------------------------

    /**
     * Comet.Timeout as given (Comet4J's meaning; default 60000): how long
     * one streaming (SSE) or long-poll request of a page is held, ms, before
     * the server ends it and the page comes back (nothing is lost: it
     * resumes).  0 or less: not ended on time.  WebSocket connections are
     * not requests: they stay.  A long-poll is held at most what the page
     * waits for an answer ({@link #getPollHold()}).
     */
    public int getTimeout() { return timeout; }

    /** The hold the core takes (c4j_config_t.hold_ms): Comet.Timeout, 0 when it is 0 or less, at most a day. */
    int getHoldMs() { return timeout <= 0 ? 0 : Math.min(timeout, MAX_MS); }

    /**
     * How long a long-poll is held, ms: Comet.Timeout, at most min(25000,
     * Comet.Timeout / 2) + Comet.Heartbeat / 2 (a page told timeout T waits
     * min(25000, T / 2) + the heartbeat for an answer); 25000 (at most
     * Comet.IdleTimeout / 2) when Comet.Timeout is 0 or less.  The core's
     * c4j__poll_hold.
     */
    public int getPollHold() {
        int hold = getHoldMs();
        if (hold == 0) {
            return Math.min(25000, idleTimeout / 2);
        }
        return Math.min(hold, Math.min(25000, hold / 2) + heartbeat / 2);
    }

    /**
     * Comet.IdleTimeout: ms without a byte from a client (WebSocket frames
     * and pongs, an SSE page's /cmd pings) before it is closed with 4002
     * and goes dying (default 60000, or twice Comet.Heartbeat if more);
     * more than Comet.Heartbeat.
     */
    public int getIdleTimeout() { return idleTimeout; }

    /** Comet.CometEngine as given, or null (only the default engine runs: a warning names another). */
    String getEngineClass() { return engineClass; }
    /** Comet.CacheExpires: ms a broadcast stays in its channel's history for resume (default 60000; negative: 0). */
    public int getCacheExpires() { return cacheExpires; }
    /** Comet.CacheFrequency as given (Comet4J's check interval of its cache; the core expires the history itself, default 60000). */
    public int getCacheFrequency() { return cacheFrequency; }
    /** Comet.ConnExpires: ms a connection whose transport was lost stays dying, waiting to be revived (default 5000; negative: 0). */
    public int getConnExpires() { return connExpires; }
    /**
     * Comet.ConnFrequency as given (Comet4J's interval of its check for
     * expired connections, default 5000): how often a connection whose
     * removal a BeforeRemoveListener vetoed is offered again.  The core
     * expires dying connections itself.
     */
    public int getConnFrequency() { return connFrequency; }

    /** {@link #getConnFrequency()} as an interval: 5000 when 0 or less, at least 100. */
    int removalRetryMs() { return connFrequency <= 0 ? 5000 : Math.max(100, connFrequency); }
    /** Comet.WorkStyle: auto, websocket, stream or lpool (default auto). */
    public String getWorkStyle() { return workStyle; }
    /** Comet.Debug (default false). */
    public boolean isDebug() { return debug; }
    /**
     * Comet.LogLevel (error, warn, info, debug) as the java.util.logging
     * level of the logger org.comet4j: SEVERE, WARNING, INFO or FINE; FINE
     * when only Comet.Debug is true; null when neither is set (the level
     * stays logging.properties').
     */
    public java.util.logging.Level getLogLevel() { return logLevel; }
    /** Comet.Language as a locale: Chinese for zh, else English (the default). */
    public Locale getLocale() { return locale; }
    /** Comet.Language's language code, e.g. "zh" or "en". */
    public String getLanguage() { return locale.getLanguage(); }
    /** Comet.Port's value when it is not set: one port, no native listener. */
    static final int ONE_PORT = -2;

    /**
     * Comet.Port: the native listener's port; 0 picks a free one; -1 runs
     * none (a HubServer, or nodes elsewhere hold the connections, and
     * Comet.PublicUrl lists them).  Not set (the default): one port, the
     * pages' transports reach the core through this application's own URL
     * (docs/protocol.md section 10), and this returns -2.
     */
    public int getPort() { return port; }

    /** Comet.Port is not set: pages need no port but the application's own. */
    public boolean isOnePort() { return port == ONE_PORT; }

    /**
     * The port the native listener binds: in one-port mode 0, a free port
     * on loopback ({@link #listenHost}), internal: the container way's
     * bridge reaches the core there (docs/protocol.md section 10), pages
     * never do.
     */
    int listenPort() { return port == ONE_PORT ? 0 : port; }

    /** The address the native listener binds: 127.0.0.1 in one-port mode, else Comet.Host. */
    String listenHost() { return port == ONE_PORT ? "127.0.0.1" : host; }
    /** Comet.Host: the native listener's address (default 0.0.0.0). */
    public String getHost() { return host; }
    /**
     * Comet.PublicUrl: the first base URL browsers use (e.g.
     * https://example.com/comet; an entry ending in /ws means its base
     * without /ws), or null.
     */
    public String getPublicUrl() { return publicUrls.isEmpty() ? null : publicUrls.get(0); }
    /** Comet.PublicUrl as a list (it may be a comma list of several servers). */
    public List<String> getPublicUrls() { return publicUrls; }
    /** Comet.Threads: worker loops (default: number of cores). */
    public int getThreads() { return threads; }
    /** Comet.Secret's bytes (a copy); random per start when not set. */
    public byte[] getSecret() { return Arrays.copyOf(secret, secret.length); }
    /** Comet.Heartbeat: server ping interval, ms (default 25000). */
    public int getHeartbeat() { return heartbeat; }
    /** Comet.MaxHeader: request line and headers, bytes (default 16384: browsers send the application's cookies to the native port too). */
    public int getMaxHeader() { return maxHeader; }

    /** Comet.HistorySize: broadcasts kept per channel so that pages resume without loss (default 1000). */
    public int getHistorySize() { return historySize; }
    /** Comet.MaxFrame: payload of one client frame, bytes (default 65536). */
    public int getMaxFrame() { return maxFrame; }
    /** Comet.MaxMessage: a reassembled client message, bytes (default 65536). */
    public int getMaxMessage() { return maxMessage; }
    /** Comet.MaxQueue: bytes queued to one connection (default 1048576). */
    public int getMaxQueue() { return maxQueue; }
    /** Comet.MaxConnections: connections held at once (default 100000). */
    public int getMaxConnections() { return maxConnections; }
    /**
     * Comet.HandshakeTimeout: ms within which a request must arrive on the
     * native port, head and body (default 10000; docs/protocol.md section 2,
     * "Unfinished requests": shorter while the core is more than half full).
     */
    public int getHandshakeTimeout() { return handshakeTimeout; }
    /**
     * Comet.MaxPendingPerAddress: unfinished requests (sockets whose request
     * has not fully arrived) one client address, an IPv4 address or an IPv6
     * /64, may hold while the core is at least half full; more get 429
     * (default 16; 0: no cap).
     */
    public int getMaxPendingPerAddress() { return maxPendingPerAddress; }
    /** Comet.AllowedOrigins: comma list of origins or "*" (default "*"). */
    public String getAllowedOrigins() { return allowedOrigins; }

    /**
     * Whether a page's Origin may connect under Comet.AllowedOrigins: "*",
     * no Origin (not a page), or an origin of the list (case-insensitive),
     * as the core decides for its transports.
     */
    public boolean isOriginAllowed(String origin) {
        if (origin == null || origin.isEmpty()) {
            return true;
        }
        for (String o : allowedOrigins.split(",")) {
            o = o.trim();
            if (o.equals("*") || o.equalsIgnoreCase(origin)) {
                return true;
            }
        }
        return false;
    }

    /** Comet.TrustedProxies: the addresses whose forwarding headers count (default none). */
    public Set<String> getTrustedProxies() { return trustedProxies; }
    /** Comet.TicketTtl: ticket lifetime, seconds (default 60). */
    public int getTicketTtl() { return ticketTtl; }
    /** Comet.ActionTimeout: ms a page request's action may take before it is answered 4080 (default 30000). */
    public int getActionTimeout() { return actionTimeout; }
    /** Comet.ActionThreads: threads of the engine's pool that runs ActionHandlers (default 16). */
    public int getActionThreads() { return actionThreads; }

    /** Comet.ApiKey: the key of the HTTP API on the native port; "" (the default) turns the API off. */
    String getApiKey() { return apiKey; }
    /** Comet.Metrics: null when off, "true" (the key as a bearer), or a comma list of addresses. */
    String getMetrics() { return metrics; }
    /** Whether Comet.Metrics lets someone read the metrics (the servlet is then registered). */
    public boolean isMetricsEnabled() { return metrics != null; }
    /** Comet.Admin: null when off, "true" (the key as a bearer), or a comma list of addresses. */
    String getAdmin() { return admin; }
    /** Whether Comet.Admin lets someone open the admin page (the servlet is then registered). */
    public boolean isAdminEnabled() { return admin != null; }
    /** Whether Comet.ApiKey is set, that is the native port answers /api/ requests. */
    public boolean isApiEnabled() { return !apiKey.isEmpty(); }

    /** Comet.Hub: "local" (the default: this node is alone) or the redis://host[:port][/db] URL of the cluster's Redis. */
    public String getHub() { return hub; }
    /** Whether Comet.Hub is a Redis URL: sends, actions, online and presence go through the cluster. */
    public boolean isHubRedis() { return !HUB_LOCAL.equals(hub); }
    /** Comet.HubPrefix: prefix of the hub's Redis keys and channel; nodes with the same one form a cluster (default c4j). */
    public String getHubPrefix() { return hubPrefix; }
    /**
     * Comet.ListenActions: with a Redis hub, true (the default) runs page
     * requests here (this node's own, and queued ones from nodes with
     * false); false queues this node's page requests for the others.
     */
    public boolean isListenActions() { return listenActions; }
    /**
     * Comet.HubOutboxRecords: with a Redis hub, the records this node keeps
     * until Redis has them, while Redis is down or slow (default 100000).  A
     * send beyond it (or beyond Comet.HubOutboxBytes) is refused and reaches
     * nobody: sendToAll throws, /api/publish answers 503.
     */
    public int getHubOutboxRecords() { return hubOutboxRecords; }
    /** Comet.HubOutboxBytes: the same bound in bytes (default 64 MiB). */
    public int getHubOutboxBytes() { return hubOutboxBytes; }
    /**
     * Comet.HubCatchUpRecords: broadcasts Redis keeps per channel (at least
     * Comet.HistorySize of them) for a node that was cut off (default 100000).
     */
    public int getHubCatchUpRecords() { return hubCatchUpRecords; }
    /** Comet.HubCatchUpBytes: live records a node holds while it fetches what it missed (default 64 MiB). */
    public int getHubCatchUpBytes() { return hubCatchUpBytes; }

    /** Comet.Deflate: permessage-deflate on the core's WebSockets (default true). */
    public boolean isDeflate() { return deflate; }

    /** Comet.TlsCert: the native port's PEM certificate file, or null without TLS. */
    public String getTlsCert() { return tlsCert; }
    /** Comet.TlsKey: its private key's PEM file, or null without TLS. */
    public String getTlsKey() { return tlsKey; }
    /** Whether the native port speaks TLS (Comet.TlsCert and Comet.TlsKey are set). */
    public boolean isTls() { return tlsCert != null; }

    /** Maps a c4j_config_t field name (from the core's error) to its parameter. */
    static String parameterOf(String coreField) {
        if (coreField == null) {
            return "Comet.*";
        }
        String f = coreField.toLowerCase(Locale.ROOT).trim();
        // The core's text starts with the field ("hub: cannot reach ..."):
        // match that first, so that words of the reason name nothing.
        int colon = f.indexOf(':');
        String field = colon > 0 ? f.substring(0, colon) : f;
        String[][] table = {
            {"host", CONFIG_HOST}, {"port", CONFIG_PORT}, {"threads", CONFIG_THREADS},
            {"secret", CONFIG_SECRET}, {"heartbeat", CONFIG_HEARTBEAT},
            {"idle_timeout", CONFIG_IDLETIMEOUT}, {"hold", CONFIG_TIMEOUT}, {"max_header", CONFIG_MAXHEADER},
            {"max_frame", CONFIG_MAXFRAME}, {"max_message", CONFIG_MAXMESSAGE},
            {"max_queue", CONFIG_MAXQUEUE}, {"max_conns", CONFIG_MAXCONNECTIONS},
            {"handshake_timeout", CONFIG_HANDSHAKETIMEOUT},
            {"max_pending_per_addr", CONFIG_MAXPENDINGPERADDRESS},
            {"allowed_origins", CONFIG_ALLOWEDORIGINS},
            {"conn_expires", CONFIG_CONNEXPIRES}, {"history_size", CONFIG_HISTORYSIZE},
            {"history_age", CONFIG_CACHEEXPIRES}, {"api_key", CONFIG_APIKEY}, {"metrics", CONFIG_METRICS},
            {"hub_prefix", CONFIG_HUBPREFIX}, {"listen_actions", CONFIG_LISTENACTIONS},
            {"hub_outbox_records", CONFIG_HUBOUTBOXRECORDS}, {"hub_outbox_bytes", CONFIG_HUBOUTBOXBYTES},
            {"hub_catchup_records", CONFIG_HUBCATCHUPRECORDS}, {"hub_catchup_bytes", CONFIG_HUBCATCHUPBYTES},
            {"hub", CONFIG_HUB},
            {"tls_cert", CONFIG_TLSCERT}, {"tls_key", CONFIG_TLSKEY},
            {"deflate", CONFIG_DEFLATE},
        };
        for (String[] row : table) {
            if (field.equals(row[0]) || field.startsWith(row[0] + "_ms")) {
                return row[1];
            }
        }
        for (String[] row : table) {
            if (f.contains(row[0])) {
                return row[1];
            }
        }
        return "Comet.*";
    }
}
