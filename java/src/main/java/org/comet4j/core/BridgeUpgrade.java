package org.comet4j.core;

import java.io.IOException;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpUpgradeHandler;
import jakarta.servlet.http.WebConnection;

/**
 * Internal (public only because the container instantiates it): a page's
 * WebSocket that the container keeps, once upgraded ({@link ContainerWay}):
 * its connection's non-blocking streams joined to the {@link BridgePipe}
 * whose core answered 101.  The core writes and reads the frames; this
 * only moves them.
 */
public final class BridgeUpgrade implements HttpUpgradeHandler {

    /** Set by the servlet right after upgrade(), before init(). */
    volatile BridgePipe pipe;
    private volatile WsPage page;

    public BridgeUpgrade() {}

    @Override
    public void init(WebConnection wc) {
        BridgePipe p = pipe;
        WsPage w = new WsPage(wc);
        page = w;
        if (p == null) {
            w.end();
            return;
        }
        w.pipe = p; // the listeners' callbacks signal it; attach makes it the pipe's page
        try {
            w.in = wc.getInputStream();
            w.out = wc.getOutputStream();
            w.in.setReadListener(w);
            w.out.setWriteListener(w);
        } catch (IOException | RuntimeException e) {
            w.gone = true;
            p.signal(BridgePipe.EV_CLOSE);
            w.close();
            return;
        }
        p.attach(w);
    }

    @Override
    public void destroy() {
        WsPage w = page;
        if (w != null) {
            w.gone = true;
        }
        BridgePipe p = pipe;
        if (p != null) {
            p.signal(BridgePipe.EV_CLOSE);
        }
    }

    /** The upgraded connection as the pipe's page. */
    static final class WsPage extends BridgePipe.Page implements ReadListener, WriteListener {
        private final WebConnection wc;
        ServletInputStream in;

        WsPage(WebConnection wc) {
            this.wc = wc;
        }

        @Override
        void head(BridgePipe.Answer a) {
            // the 101 went out with the upgrade
        }

        @Override
        int read(byte[] b, int off, int len) throws IOException {
            if (gone || in.isFinished()) {
                return -1;
            }
            if (!in.isReady()) {
                return 0;
            }
            int n = in.read(b, off, len);
            return n == 0 ? 0 : n;
        }

        @Override
        void end() {
            gone = true;
            close();
        }

        @Override
        void fail(int status, String why) {
            end();
        }

        void close() {
            try {
                wc.close();
            } catch (Exception e) {
                // closed already
            }
        }

        @Override
        public void onDataAvailable() {
            signal(BridgePipe.EV_READABLE);
        }

        @Override
        public void onAllDataRead() {
            signal(BridgePipe.EV_PAGE_EOF);
        }

        @Override
        public void onWritePossible() {
            signal(BridgePipe.EV_WRITABLE);
        }

        @Override
        public void onError(Throwable t) {
            gone = true;
            signal(BridgePipe.EV_CLOSE);
        }
    }
}
