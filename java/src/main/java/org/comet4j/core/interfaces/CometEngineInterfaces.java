package org.comet4j.core.interfaces;

import java.util.List;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.comet4j.core.CometConnection;

/**
 * Comet4J's sketch of an engine's interface (no class of Comet4J
 * implemented it, nor does any here).  Kept so that code naming it
 * compiles; {@code CometEngine} is the engine.
 */
public interface CometEngineInterfaces {

    void connect(HttpServletRequest request, HttpServletResponse response);

    void revival(HttpServletRequest request, HttpServletResponse response);

    void drop(HttpServletRequest request, HttpServletResponse response);

    void timeout(HttpServletRequest request, HttpServletResponse response);

    List<CometConnection> getConnections();

    void send(String id);

    void publish(String id);
}
