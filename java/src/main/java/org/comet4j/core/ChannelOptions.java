package org.comet4j.core;

/**
 * What pages may do on a registered channel (docs/protocol.md section 7).
 * Every registered channel may be subscribed to by pages (a
 * SubscribeListener can refuse); by default only the server publishes on it
 * (a page's {"t":"pub"} gets 4031).  Immutable:
 * <pre>
 * cc.registChannel("chat", ChannelOptions.defaults().clientWritable().presence());
 * </pre>
 */
public final class ChannelOptions {

    private static final ChannelOptions DEFAULTS = new ChannelOptions(false, false);

    private final boolean clientWritable;
    private final boolean presence;

    private ChannelOptions(boolean clientWritable, boolean presence) {
        this.clientWritable = clientWritable;
        this.presence = presence;
    }

    /** Server-push only, no presence: what registChannel(name) gives. */
    public static ChannelOptions defaults() {
        return DEFAULTS;
    }

    /** The same options, and pages may publish on the channel (PublishListeners still decide). */
    public ChannelOptions clientWritable() {
        return new ChannelOptions(true, presence);
    }

    /** The same options, and members get join/leave frames and PresenceEvents fire. */
    public ChannelOptions presence() {
        return new ChannelOptions(clientWritable, true);
    }

    public boolean isClientWritable() {
        return clientWritable;
    }

    public boolean isPresence() {
        return presence;
    }

    @Override
    public String toString() {
        return "ChannelOptions[clientWritable=" + clientWritable + ", presence=" + presence + "]";
    }
}
