package org.comet4j.core;

import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.comet4j.core.exception.ConfigException;

/**
 * The loggers of comet4j and their level.  Everything goes through
 * java.util.logging (Tomcat's JULI: catalina.out and catalina.DATE.log),
 * under {@link #ROOT}: the Java layer logs there, the C core's records
 * (C4J_EV_LOG events) go to {@link #NATIVE} at their level, the MBean's
 * problems to {@link #JMX}.  {@code Comet.LogLevel} (error, warn, info,
 * debug: comet4j-node's --log-level) sets ROOT's level while the engine
 * runs; {@code Comet.Debug=true} without it means debug.  Neither set: the
 * level stays what logging.properties says (INFO by default).
 */
final class Logs {

    /** The context-param. */
    static final String PARAM = "Comet.LogLevel";

    /** The Java layer: start and stop, configuration, handshakes, listeners. */
    static final String ROOT = "org.comet4j";
    /** The C core's records, at their level (error, warn, info, debug). */
    static final String NATIVE = "org.comet4j.native";
    /** The engine's MBean (JMX): registration problems. */
    static final String JMX = "org.comet4j.jmx";

    /** Comet.LogLevel's values, as comet4j-node's --log-level, and their java.util.logging levels. */
    private static final Map<String, Level> LEVELS = Map.of("error", Level.SEVERE, "warn", Level.WARNING,
            "info", Level.INFO, "debug", Level.FINE);

    /** Held here: a logger only weakly referenced may be collected and lose its level. */
    private static final Logger ROOT_LOGGER = Logger.getLogger(ROOT);

    private Logs() {}

    /**
     * The level of {@code Comet.LogLevel} (value, null when not set), else
     * FINE when Comet.Debug is true, else null (leave logging.properties in
     * charge).
     * @throws ConfigException naming Comet.LogLevel for another value
     */
    static Level level(String value, boolean debug, Locale locale) {
        if (value == null) {
            return debug ? Level.FINE : null;
        }
        Level l = LEVELS.get(value.trim().toLowerCase(Locale.ROOT));
        if (l == null) {
            throw new ConfigException(PARAM, Language.text(locale, "OneOf",
                    new java.util.TreeSet<>(LEVELS.keySet()), value));
        }
        return l;
    }

    /** Comet.LogLevel's name of a level of {@link #level}: error, warn, info or debug. */
    static String name(Level l) {
        for (Map.Entry<String, Level> e : LEVELS.entrySet()) {
            if (e.getValue().equals(l)) {
                return e.getKey();
            }
        }
        return l.getName();
    }

    /**
     * Sets ROOT's level (nothing when level is null).
     * @return the level it had, for {@link #restore}
     */
    static Level apply(Level level) {
        Level was = ROOT_LOGGER.getLevel();
        if (level != null) {
            ROOT_LOGGER.setLevel(level);
        }
        return was;
    }

    /** Gives ROOT back the level {@link #apply} found. */
    static void restore(Level was) {
        ROOT_LOGGER.setLevel(was);
    }

    /** Whether debug lines are logged: ROOT's level is debug (FINE) or finer. */
    static boolean debug() {
        return ROOT_LOGGER.isLoggable(Level.FINE);
    }

    /** The java.util.logging level of a core record's level (0 error, 1 warn, 2 info, 3 debug). */
    static Level ofCore(int level) {
        return level <= 0 ? Level.SEVERE : level == 1 ? Level.WARNING : level == 2 ? Level.INFO : Level.FINE;
    }
}
