package org.comet4j.core;

/**
 * One message as Comet4J's MessageEvent carries it: the channel, the data
 * as given to sendTo/sendToAll (before serialization) and when it was sent.
 * The frame the page gets is made by the core ({"t":"msg","ch","data","time"},
 * docs/protocol.md section 3); this object only describes it.
 */
public class CometMessage {

    private volatile String channel;
    private volatile long time;
    private volatile Object data;

    /** A message of data on aChannel, timed now. */
    public CometMessage(Object anData, String aChannel) {
        this.data = anData;
        this.channel = aChannel;
        this.time = System.currentTimeMillis();
    }

    /** When it was sent, ms since the epoch. */
    public long getTime() {
        return time;
    }

    public void setTime(long time) {
        this.time = time;
    }

    /** The data as given to the send. */
    public Object getData() {
        return data;
    }

    public void setData(Object data) {
        this.data = data;
    }

    public String getChannel() {
        return channel;
    }

    public void setChannel(String channel) {
        this.channel = channel;
    }

    /** Forgets the data. */
    public void destroy() {
        data = null;
    }

    @Override
    public String toString() {
        return "CometMessage[" + channel + " " + time + "]";
    }
}
