package org.comet4j.core;

import java.util.ListResourceBundle;

/**
 * The texts of comet4j in English, the base bundle of {@link Language}
 * (Comet4J's language-en.xml); Messages_zh has them in Chinese.  Values are
 * String.format patterns.  A class rather than a .properties file: the
 * javax build copies only sources.
 */
public class Messages extends ListResourceBundle {

    static final Object[][] CONTENTS = {
        // Comet4J's keys
        {"ConnectSuccess", "Successful connection"},
        {"ConnectFailure", "Connection Failure"},
        {"InitComplete", "Initialization completely"},
        {"DoubleAppModuleKey", "Double Application Module Key"},
        // start and stop
        {"Listening", "listening on %s"},
        {"OnePort", "one port: pages attach through the application's own URL"},
        {"NoListener", "no listener (Comet.Port=-1; pages attach to %s)"},
        {"Threads", "%d threads"},
        {"Hub", "hub %s (prefix %s, %s)"},
        {"HubRunsActions", "runs actions"},
        {"HubQueuesActions", "queues actions"},
        {"Started", "comet4j: started, native port %d"},
        {"StartedOnePort", "comet4j: started, one port (pages attach through %s's own URL)"},
        {"StartFailed", "comet4j: start-up failed: %s"},
        {"Stopped", "comet4j: stopped"},
        // refusals and errors the pages get
        {"ConnectRefused", "connection refused"},
        {"EngineNotRunning", "comet engine not running"},
        {"MissingCmd", "missing cmd"},
        {"UnknownCmd", "unknown cmd: %s"},
        {"DropVetoed", "comet4j: a BeforeDropListener kept %s (its page asked for the drop)"},
        {"DroppedByPage", "dropped by its page"},
        {"RemoveVetoed", "comet4j: a BeforeRemoveListener keeps %s; offered again every %d ms"},
        // configuration
        {"NotANumber", "not a number: '%s'"},
        {"Between", "must be between %d and %d: '%s'"},
        {"TrueFalse", "must be true or false: '%s'"},
        {"OneOf", "must be one of %s: '%s'"},
        {"GreaterThan", "must be greater than %s (%d): '%s'"},
        {"UnknownParam", "comet4j: unknown context-param '%s' ignored"},
        {"EngineClass", "comet4j: %s: %s is not supported here; the default engine runs"},
        {"DebugValue", "comet4j: %s: '%s' is not true: debug stays off"},
    };

    @Override
    protected Object[][] getContents() {
        return CONTENTS;
    }
}
