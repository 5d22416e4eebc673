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
import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;

import org.comet4j.core.event.CometContextEvent;
import org.comet4j.core.exception.DoubleAppModuleKeyException;
import org.comet4j.core.listener.CometContextListener;
import org.comet4j.event.Observable;

/**
 * The per-application singleton (Comet4J's entry point): the settings, the
 * registered channels and the one {@link CometEngine}.  The engine object
 * exists from the first {@link #getInstance()}, so listeners can be added in
 * any order; {@link #init(CometConfig)} starts the native engine and
 * {@link #destroy()} stops it and forgets this instance, so the next
 * getInstance() (a redeploy, the next test) starts clean.
 *
 * <p>As in Comet4J it fires {@link CometContextEvent}s:
 * {@code addListener(CometContextEvent.class, new CometContextListener() {...})}
 * hears INITIALIZED at the end of init and DESTROYED once the engine
 * stopped.
 */
public class CometContext extends Observable<CometContextEvent, CometContextListener> {

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
    private volatile ServletContext servletContext;
    /** The engine's MBean while it runs (null when it could not be registered). */
    private volatile EngineMBean mbean;
    /** The level the logger org.comet4j had before Comet.LogLevel set it (see {@link Logs}). */
    private volatile Level levelBefore;

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
    public void init(CometConfig cfg) {
        synchronized (this) {
            if (init) {
                throw new IllegalStateException("comet4j: CometContext is already initialized");
            }
            Level before = Logs.apply(cfg.getLogLevel());
            try {
                engine.start(cfg);
            } catch (RuntimeException | Error e) {
                Logs.restore(before);
                throw e;
            }
            levelBefore = before;
            config = cfg;
            init = true;
            ServletContext sc = servletContext;
            mbean = EngineMBean.register(engine, this::getAppModules, sc == null ? null : sc.getContextPath());
            java.util.Locale l = cfg.getLocale();
            String where = cfg.isOnePort() ? Language.text(l, "OnePort")
                    : cfg.getPort() == -1 ? Language.text(l, "NoListener", cfg.getPublicUrls())
                    : Language.text(l, "Listening", cfg.getHost() + ":" + engine.getPort());
            LOG.info("comet4j " + version + " " + Language.text(l, "InitComplete") + ": " + where + ", "
                    + Language.text(l, "Threads", cfg.getThreads())
                    + (cfg.isHubRedis() ? ", " + Language.text(l, "Hub", cfg.getHub(), cfg.getHubPrefix(),
                    Language.text(l, cfg.isListenActions() ? "HubRunsActions" : "HubQueuesActions")) : ""));
        }
        CometContextEvent e = new CometContextEvent(this, CometContextEvent.INITIALIZED);
        e.setServletContext(servletContext);
        fireContextEvent(e);
    }

    /**
     * Comet4J's start: reads the {@code Comet.*} context-params of the
     * event's servlet context and starts the engine ({@link #init(CometConfig)});
     * nothing happens if it is initialized already.  CometAppListener calls it.
     * @throws org.comet4j.core.exception.ConfigException naming a bad parameter
     */
    public void init(ServletContextEvent event) {
        synchronized (this) {
            if (init) {
                return;
            }
            servletContext = event.getServletContext();
        }
        init(CometConfig.fromServletContext(servletContext));
    }

    private void fireContextEvent(CometContextEvent e) {
        fireEvent(e, (l, t) -> LOG.log(Level.SEVERE, "comet4j: a CometContextListener failed on "
                + e.getSubType(), t));
    }

    /**
     * Stops the engine (every connection closes with 1001), frees it and
     * clears the singleton.  Idempotent.
     */
    @Override
    public void destroy() {
        boolean was;
        synchronized (this) {
            was = init;
            EngineMBean m = mbean;
            mbean = null;
            if (m != null) {
                m.unregister();
            }
            engine.stop();
            engine.removeAllListeners();
            init = false;
        }
        if (was) {
            CometContextEvent e = new CometContextEvent(this, CometContextEvent.DESTROYED);
            e.setServletContext(servletContext);
            fireContextEvent(e);
            LOG.info(Language.text(getLocale(), "Stopped"));
            Logs.restore(levelBefore);
        }
        super.destroy();
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
            throw new DoubleAppModuleKeyException("comet4j: " + Language.t("DoubleAppModuleKey")
                    + " (channel already registered): '" + channel + "'");
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

    /** The registered channels' options, live (for engines made with CometEngine's public constructor). */
    Map<String, ChannelOptions> channelOptionsMap() {
        return channelOptions;
    }

    /**
     * Logs str when debug lines are on (Comet4J's log; Comet.Debug true,
     * or Comet.LogLevel debug): to the "org.comet4j" logger, at INFO.
     */
    public void log(String str) {
        if (engine.isDebugOn()) {
            LOG.info(str);
        }
    }

    /** {@link #log(String)} with a throwable. */
    public void log(String str, Throwable trb) {
        if (engine.isDebugOn()) {
            LOG.log(Level.INFO, str, trb);
        }
    }

    /**
     * A new instance of the class of that name, by its public no-argument
     * constructor (Comet4J's helper; the class is looked up with the
     * thread's context class loader, then this library's).
     */
    public Object createInstance(String className) throws InstantiationException, IllegalAccessException,
            ClassNotFoundException {
        Class<?> c;
        ClassLoader tcl = Thread.currentThread().getContextClassLoader();
        try {
            c = Class.forName(className, true, tcl != null ? tcl : CometContext.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            c = Class.forName(className);
        }
        try {
            return c.getDeclaredConstructor().newInstance();
        } catch (NoSuchMethodException e) {
            throw new InstantiationException(className + ": no constructor without arguments");
        } catch (java.lang.reflect.InvocationTargetException e) {
            InstantiationException ie = new InstantiationException(className + ": " + e.getCause());
            ie.initCause(e.getCause());
            throw ie;
        }
    }

    /** The web application's context, once initialized by CometAppListener (else null). */
    public ServletContext getServletContext() {
        return servletContext;
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

    /** Comet.Timeout: how long one streaming or long-poll request is held, ms (Comet4J's meaning; see CometConfig). */
    public int getTimeout() { return getConfig().getTimeout(); }
    /** Comet.IdleTimeout: ms without a byte from a client before it is closed (4002). */
    public int getIdleTimeout() { return getConfig().getIdleTimeout(); }
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
