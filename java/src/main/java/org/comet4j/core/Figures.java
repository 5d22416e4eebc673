package org.comet4j.core;

import java.util.concurrent.atomic.LongAdder;

/**
 * The figures of what Java does itself (docs/metrics.md): the handshakes
 * (tickets issued, attached, expired unused; BeforeConnect refusals), the
 * pages' commands by type and the err frames by code, the actions (their
 * handler's time as a histogram, their outcome).  Counted with LongAdders,
 * no lock; {@link #text(int)} writes them in Prometheus's text format, for
 * {@link CometEngine#getMetricsText()} to append to the core's.  Everything
 * the core counts stays the core's (Native.stats): nothing here repeats it.
 */
final class Figures {

    final LongAdder ticketsIssued = new LongAdder();
    final LongAdder ticketsAttached = new LongAdder();
    final LongAdder ticketsExpiredUnused = new LongAdder();
    final LongAdder beforeConnectRefused = new LongAdder();
    final LongAdder originsRefused = new LongAdder();

    /** Command types, in the order of {@link #commands}; the last: anything else. */
    static final String[] COMMAND_TYPES = {"sub", "unsub", "pub", "req", "invalid"};
    final LongAdder[] commands = adders(COMMAND_TYPES.length);

    /** err codes (docs/protocol.md section 7), in the order of {@link #errors}; the last: others. */
    static final int[] ERROR_CODES = {4000, 4030, 4031, 4040, 4080, 4290, 5000, 5030, 0};
    final LongAdder[] errors = adders(ERROR_CODES.length);

    /** Action outcomes: res, err 5000 (threw), 4080 (timed out), 5030 (pool queue full). */
    static final String[] ACTION_RESULTS = {"ok", "error", "timeout", "busy"};
    final LongAdder[] actions = adders(ACTION_RESULTS.length);

    /** The core's bucket bounds (metrics.c), in seconds and in nanoseconds. */
    static final String[] BUCKETS = {"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
        "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"};
    private static final long[] BOUNDS_NS = {100_000L, 250_000L, 500_000L, 1_000_000L, 2_500_000L,
        5_000_000L, 10_000_000L, 25_000_000L, 50_000_000L, 100_000_000L, 250_000_000L, 500_000_000L,
        1_000_000_000L, 2_500_000_000L, 5_000_000_000L};
    private final LongAdder[] actionLe = adders(BUCKETS.length);
    private final LongAdder actionSumNs = new LongAdder();
    private final LongAdder actionCount = new LongAdder();

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    void command(String type) {
        for (int i = 0; i < COMMAND_TYPES.length - 1; i++) {
            if (COMMAND_TYPES[i].equals(type)) {
                commands[i].increment();
                return;
            }
        }
        commands[COMMAND_TYPES.length - 1].increment();
    }

    void error(int code) {
        int i = 0;
        while (i < ERROR_CODES.length - 1 && ERROR_CODES[i] != code) {
            i++;
        }
        errors[i].increment();
    }

    /** One action handler ran for ns nanoseconds. */
    void actionTime(long ns) {
        int i = 0;
        while (i < BOUNDS_NS.length && ns > BOUNDS_NS[i]) {
            i++;
        }
        actionLe[i].increment();
        actionSumNs.add(ns);
        actionCount.increment();
    }

    long actionCount() {
        return actionCount.sum();
    }

    /** These figures as Prometheus text lines; actionQueue: requests waiting for a pool thread now. */
    String text(int actionQueue) {
        StringBuilder b = new StringBuilder(4096);
        counter(b, "tickets_issued_total", "Tickets handed out by the handshake servlet.", ticketsIssued.sum());
        counter(b, "tickets_attached_total", "Tickets of this node whose connection attached.",
                ticketsAttached.sum());
        counter(b, "tickets_expired_unused_total", "Tickets that expired before their connection attached.",
                ticketsExpiredUnused.sum());
        head(b, "handshakes_refused_total", "counter", "Handshakes the servlet refused, by reason.");
        b.append("comet4j_handshakes_refused_total{reason=\"before_connect\"} ").append(beforeConnectRefused.sum())
                .append('\n');
        b.append("comet4j_handshakes_refused_total{reason=\"origin\"} ").append(originsRefused.sum()).append('\n');
        head(b, "commands_total", "counter", "Commands from pages handled by the application, by type.");
        for (int i = 0; i < COMMAND_TYPES.length; i++) {
            b.append("comet4j_commands_total{type=\"").append(COMMAND_TYPES[i]).append("\"} ")
                    .append(commands[i].sum()).append('\n');
        }
        head(b, "command_errors_total", "counter", "err frames sent to pages by the application, by code.");
        for (int i = 0; i < ERROR_CODES.length; i++) {
            b.append("comet4j_command_errors_total{code=\"")
                    .append(ERROR_CODES[i] == 0 ? "other" : String.valueOf(ERROR_CODES[i])).append("\"} ")
                    .append(errors[i].sum()).append('\n');
        }
        head(b, "actions_total", "counter", "Action requests answered, by result.");
        for (int i = 0; i < ACTION_RESULTS.length; i++) {
            b.append("comet4j_actions_total{result=\"").append(ACTION_RESULTS[i]).append("\"} ")
                    .append(actions[i].sum()).append('\n');
        }
        head(b, "action_queue", "gauge", "Action requests waiting for a pool thread.");
        b.append("comet4j_action_queue ").append(actionQueue).append('\n');
        head(b, "action_handler_seconds", "histogram", "Time an ActionHandler took to return or throw.");
        long count = actionCount.sum();
        long cum = 0;
        for (int i = 0; i < BUCKETS.length; i++) {
            cum += actionLe[i].sum();
            long v = i == BUCKETS.length - 1 || cum > count ? count : cum;
            b.append("comet4j_action_handler_seconds_bucket{le=\"").append(BUCKETS[i]).append("\"} ").append(v)
                    .append('\n');
        }
        b.append("comet4j_action_handler_seconds_sum ").append(String.format(java.util.Locale.ROOT, "%.9f",
                actionSumNs.sum() / 1e9)).append('\n');
        b.append("comet4j_action_handler_seconds_count ").append(count).append('\n');
        return b.toString();
    }

    private static void head(StringBuilder b, String name, String type, String help) {
        b.append("# HELP comet4j_").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE comet4j_").append(name).append(' ').append(type).append('\n');
    }

    private static void counter(StringBuilder b, String name, String help, long v) {
        head(b, name, "counter", help);
        b.append("comet4j_").append(name).append(' ').append(v).append('\n');
    }
}
