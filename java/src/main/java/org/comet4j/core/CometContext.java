package org.comet4j.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Logger;

import org.comet4j.core.exception.DoubleAppModuleKeyException;

/**
 * The per-application singleton (Comet4J's entry point): the settings, the
 * registered channels and the one {@link CometEngine}.  The engine object
 * exists from the first {@link #getInstance()}, so listeners can be added in
 * any order; {@link #init(CometConfig)} starts the native engine and
 * {@link #destroy()} stops it and forgets this instance, so the next
 * getInstance() (a redeploy, the next test) starts clean.
 */
public final class CometContext {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    private static CometContext instance;

    /** This library's version: the POM's, from version.properties (filtered by Maven). */
    public final String version = VERSION;

    private static final String VERSION = readVersion();

    private final List<String> appModules = new CopyOnWriteArrayList<>();
    private final Map<String, ChannelOptions> channelOptions = new ConcurrentHashMap<>();
    private final CometEngine engine = new CometEngine(channelOptions);
    private volatile CometConfig config;
    private volatile boolean init;

    private CometContext() {}

    private static String readVersion() {
        try (InputStream in = CometContext.class.getResourceAsStream("version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            String v = p.getProperty("version", "");
            return v.isEmpty() || v.startsWith("$") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The context of this application (one per class loader). */
    public static synchronized CometContext getInstance() {
        if (instance == null) {
            instance = new CometContext();
        }
        return instance;
    }

    /**
     * Starts the native engine and its dispatcher with cfg.  Called by
     * CometAppListener; embedders and tests call it with
     * {@code CometConfig.parse(map)}.
     * @throws IllegalStateException if already initialized
     * @throws org.comet4j.core.exception.CometException if the engine cannot start
     */
    public synchronized void init(CometConfig cfg) {
        if (init) {
            throw new IllegalStateException("comet4j: CometContext is already initialized");
        }
        engine.start(cfg);
        config = cfg;
        init = true;
        String where = cfg.isOnePort() ? "one port: pages attach through the application's own URL"
                : cfg.getPort() == -1 ? "no listener (Comet.Port=-1; pages attach to " + cfg.getPublicUrls() + ")"
                : "listening on " + cfg.getHost() + ":" + engine.getPort();
        LOG.info("comet4j " + version + ": push engine " + where + " with " + cfg.getThreads() + " threads"
                + (cfg.isHubRedis() ? ", hub " + cfg.getHub() + " (prefix " + cfg.getHubPrefix() + ", "
                + (cfg.isListenActions() ? "runs actions" : "queues actions") + ")" : ""));
    }

    /**
     * Stops the engine (every connection closes with 1001), frees it and
     * clears the singleton.  Idempotent.
     */
    public void destroy() {
        synchronized (this) {
            engine.stop();
            engine.removeAllListeners();
            init = false;
        }
        synchronized (CometContext.class) {
            if (instance == this) {
                instance = null;
            }
        }
    }

    /** True once init succeeded and until destroy. */
    public boolean isInit() {
        return init;
    }

    public String getVersion() {
        return version;
    }

    /** The engine: send messages and add listeners here. */
    public CometEngine getEngine() {
        return engine;
    }

    /**
     * Registers a channel (Comet4J: application module), server-push only:
     * pages may subscribe to it (SubscribeListeners decide) but not publish
     * on it (4031).
     * @throws DoubleAppModuleKeyException if it is already registered
     */
    public void registChannel(String channel) {
        registChannel(channel, ChannelOptions.defaults());
    }

    /**
     * Registers a channel with what pages may do on it, e.g.
     * {@code registChannel("chat", ChannelOptions.defaults().clientWritable().presence())}.
     * @throws DoubleAppModuleKeyException if it is already registered
     */
    public synchronized void registChannel(String channel, ChannelOptions options) {
        if (channel == null || channel.isEmpty()
                || channel.getBytes(StandardCharsets.UTF_8).length > 128) {
            throw new IllegalArgumentException("comet4j: a channel name needs 1 to 128 bytes: '" + channel + "'");
        }
        if (options == null) {
            throw new NullPointerException("options");
        }
        if (appModules.contains(channel)) {
            throw new DoubleAppModuleKeyException("comet4j: channel already registered: '" + channel + "'");
        }
        channelOptions.put(channel, options);
        appModules.add(channel);
        if (options.isPresence()) {
            engine.markPresence(channel); // while running; else the start marks it
        }
    }

    /**
     * Registers a channel: clientWritable lets pages publish on it, presence
     * has the core send join/leave frames to its pages (on every node, with a
     * Redis hub, and keep its members in the cluster's presence map) and
     * fires PresenceEvents.
     */
    public void registChannel(String channel, boolean clientWritable, boolean presence) {
        ChannelOptions o = ChannelOptions.defaults();
        if (clientWritable) {
            o = o.clientWritable();
        }
        if (presence) {
            o = o.presence();
        }
        registChannel(channel, o);
    }

    /** The options a channel was registered with, or null if it is not registered. */
    public ChannelOptions getChannelOptions(String channel) {
        return channel == null ? null : channelOptions.get(channel);
    }

    /** A copy of the registered channels, in registration order. */
    public List<String> getAppModules() {
        return new ArrayList<>(appModules);
    }

    /** The settings in use (defaults before init). */
    public CometConfig getConfig() {
        CometConfig c = config;
        if (c == null) {
            synchronized (this) {
                if (config == null) {
                    config = CometConfig.defaults();
                }
                c = config;
            }
        }
        return c;
    }

    public int getTimeout() { return getConfig().getTimeout(); }
    public int getCacheExpires() { return getConfig().getCacheExpires(); }
    public int getCacheFrequency() { return getConfig().getCacheFrequency(); }
    public int getConnExpires() { return getConfig().getConnExpires(); }
    public int getConnFrequency() { return getConfig().getConnFrequency(); }
    public String getWorkStyle() { return getConfig().getWorkStyle(); }
    public boolean isDebug() { return getConfig().isDebug(); }
    public String getLanguage() { return getConfig().getLanguage(); }
    public Locale getLocale() { return getConfig().getLocale(); }
    /** The bound port while running (useful with Comet.Port 0), else Comet.Port. */
    public int getPort() { return engine.getPort() >= 0 ? engine.getPort() : getConfig().getPort(); }
    public String getHost() { return getConfig().getHost(); }
    public String getPublicUrl() { return getConfig().getPublicUrl(); }
    public int getThreads() { return getConfig().getThreads(); }
    public int getHeartbeat() { return getConfig().getHeartbeat(); }
    public int getMaxFrame() { return getConfig().getMaxFrame(); }
    public int getMaxMessage() { return getConfig().getMaxMessage(); }
    public int getMaxQueue() { return getConfig().getMaxQueue(); }
    public int getMaxConnections() { return getConfig().getMaxConnections(); }
    public String getAllowedOrigins() { return getConfig().getAllowedOrigins(); }
    public int getTicketTtl() { return getConfig().getTicketTtl(); }
}
