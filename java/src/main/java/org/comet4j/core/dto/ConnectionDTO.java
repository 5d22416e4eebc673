package org.comet4j.core.dto;

import java.util.List;

/**
 * What Comet4J sent a page once connected: its connection id, work style,
 * the channels and the request timeout.  comet4j-native's handshake answer
 * (docs/protocol.md section 1) carries the same as {@code cId},
 * {@code workStyle}, {@code channels} and {@code timeout}; this bean is kept
 * for code that made or read one.
 */
public class ConnectionDTO {

    private String cId;
    private String ws;
    private List<String> channels;
    private int timeout;

    public ConnectionDTO(String cId, String ws, List<String> channels, int timeout) {
        this.cId = cId;
        this.ws = ws;
        this.channels = channels;
        this.timeout = timeout;
    }

    public String getcId() { return cId; }

    public void setcId(String cId) { this.cId = cId; }

    public List<String> getChannels() { return channels; }

    public void setChannels(List<String> channels) { this.channels = channels; }

    /** The work style: "stream", "lpool" or "websocket". */
    public String getWs() { return ws; }

    public void setWs(String ws) { this.ws = ws; }

    /** Comet.Timeout, ms. */
    public int getTimeout() { return timeout; }

    public void setTimeout(int timeout) { this.timeout = timeout; }
}
