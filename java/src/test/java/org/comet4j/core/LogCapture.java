package org.comet4j.core;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * The records a logger (and its children) gets while open: a real Handler
 * on the real java.util.logging tree, as Tomcat's JULI handlers are.
 * Records whose level the logger lets through are kept, every level.
 */
final class LogCapture extends Handler implements AutoCloseable {

    private final Logger logger;
    private final List<LogRecord> records = new ArrayList<>();

    LogCapture(String name) {
        logger = Logger.getLogger(name);
        setLevel(Level.ALL);
        logger.addHandler(this);
    }

    @Override
    public synchronized void publish(LogRecord r) {
        records.add(r);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
        logger.removeHandler(this);
    }

    synchronized List<LogRecord> records() {
        return new ArrayList<>(records);
    }

    /** The messages of the records (as formatted by no formatter: the text given). */
    List<String> messages() {
        return records().stream().map(LogRecord::getMessage).collect(Collectors.toList());
    }

    /** The records whose message contains s. */
    List<LogRecord> containing(String s) {
        return records().stream().filter(r -> r.getMessage() != null && r.getMessage().contains(s))
                .collect(Collectors.toList());
    }
}
