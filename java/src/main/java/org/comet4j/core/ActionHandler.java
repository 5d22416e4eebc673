package org.comet4j.core;

/**
 * Answers a page's request ({"t":"req","route":...}, docs/protocol.md
 * section 7); add it with {@link CometEngine#addActionHandler}.  It runs on
 * the engine's action pool (Comet.ActionThreads threads), never on the
 * dispatcher, so a slow action delays no other event.  The result is sent
 * as {"t":"res","result":JSONUtil.object2json(result)}; an exception becomes
 * {"t":"err","code":5000,"message":its message}; an action that takes longer
 * than Comet.ActionTimeout ms is answered 4080, interrupted, and its late
 * result dropped.
 */
@FunctionalInterface
public interface ActionHandler {

    Object handle(ActionRequest request) throws Exception;
}
