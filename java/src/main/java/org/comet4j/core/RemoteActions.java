package org.comet4j.core;

import java.util.Map;
import java.util.logging.Logger;

import org.comet4j.core.exception.NativeException;
import org.comet4j.core.util.JSONUtil;

/**
 * This node's ends of the hub's action queue (Comet.Hub=redis://...,
 * docs/protocol.md section 9).  With Comet.ListenActions=false a node's
 * pages' requests go onto the queue ({@link #enqueue}, from
 * {@link Commands}); a listening node gets them as ACTION events
 * ({@link #onAction}), and with them the sub, unsub and pub of pages on
 * comet4j-node.  Each record is run once, then acknowledged to the core
 * (c4j_hub_action_done): until then it waits in this node's taken list,
 * and another node runs it again if this one is gone.
 */
final class RemoteActions {

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    private final CometEngine engine;
    private final Commands commands;

    RemoteActions(CometEngine engine, Commands commands) {
        this.engine = engine;
        this.commands = commands;
    }

    /** Native.hubAction: 0, or a negative code (-1008 while stopping). */
    int enqueue(String requestJson) {
        byte[] json = EngineHandle.utf8(requestJson);
        EngineHandle h = engine.handle();
        if (h == null) {
            return NativeException.ESTOPPED;
        }
        try {
            return h.call("hubAction", a -> Native.hubAction(a, json));
        } catch (IllegalStateException e) { // closed meanwhile
            return NativeException.ESTOPPED;
        }
    }

    /**
     * A record from the hub's action queue (event ACTION), from a page on any
     * node: {"t":"req"} (or no "t"), {"cId","user","id","route","params"}:
     * a request, run like a page's own (unknown route 4040, timeout 4080, a
     * throw 5000), the ActionRequest's connection this node's object when it
     * holds cId, else null; {"t":"sub"|"unsub"|"pub","cId","user","id","ch"}
     * (pub: "data"), from comet4j-node: the same decisions as a page's own
     * command ({@link Commands#run}: registered channel, SubscribeListeners,
     * PublishListeners, writable by pages) for this node's connection, or for
     * a stand-in ({@link CometConnection#remote}) when another node holds it.
     * Every answer goes to cId wherever it is.
     */
    void onAction(String json) {
        // Done: the record leaves this node's taken list (else, this node
        // gone, another node runs it again).
        Runnable done = () -> actionDone(json);
        Object v;
        try {
            v = JSONUtil.parse(json);
        } catch (IllegalArgumentException e) {
            LOG.warning("comet4j: a queued action that is not JSON was skipped: " + e.getMessage());
            done.run();
            return;
        }
        Map<?, ?> m = v instanceof Map ? (Map<?, ?>) v : null;
        Object cid = m == null ? null : m.get("cId");
        Object idv = m == null ? null : m.get("id");
        if (!(cid instanceof String) || ((String) cid).isEmpty() || !(idv instanceof Long) || (Long) idv < 0) {
            LOG.warning("comet4j: a queued action without \"cId\" or \"id\" was skipped: " + json);
            done.run();
            return;
        }
        String id = (String) cid;
        long reqId = (Long) idv;
        if (engine.isDebugOn()) {
            LOG.info("comet4j: queued action for " + id + ": " + json);
        }
        Object t = m.get("t");
        Object u = m.get("user");
        String user = u instanceof String && !((String) u).isEmpty() ? (String) u : null;
        if ("sub".equals(t) || "unsub".equals(t) || "pub".equals(t)) {
            CometConnection c = engine.getConnection(id);
            commands.run((String) t, c != null ? c : CometConnection.remote(id, user), reqId, m);
            done.run();
            return;
        }
        if (t != null && !"req".equals(t)) {
            engine.sendError(id, reqId, CometProtocol.ERR_BAD_COMMAND, "unknown command " + JSONUtil.object2json(t));
            done.run();
            return;
        }
        Object route = m.get("route");
        if (!(route instanceof String) || ((String) route).isEmpty()) {
            engine.sendError(id, reqId, CometProtocol.ERR_BAD_COMMAND, "missing \"route\"");
            done.run();
            return;
        }
        ActionHandler h = engine.actionHandler((String) route);
        Actions a = engine.actions();
        if (h == null || a == null) {
            engine.sendError(id, reqId, CometProtocol.ERR_UNKNOWN, "unknown route " + route);
            done.run();
            return;
        }
        a.run(h, new ActionRequest((String) route, m.get("params"), id, user, engine.getConnection(id), reqId), done);
    }

    /** The queued action json has been answered (c4j_hub_action_done). */
    private void actionDone(String json) {
        EngineHandle h = engine.handle();
        if (h == null) {
            return;
        }
        byte[] b = EngineHandle.utf8(json);
        try {
            int rc = h.call("hubActionDone", a -> Native.hubActionDone(a, b));
            if (rc < 0 && rc != NativeException.ESTOPPED) {
                LOG.warning("comet4j: " + Errors.exception("hubActionDone", rc).getMessage());
            }
        } catch (IllegalStateException e) { // closed meanwhile: another node will run it
        }
    }
}
