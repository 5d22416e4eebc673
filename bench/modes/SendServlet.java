/*
 * SendServlet - GET /send?to=comet&seq=N[&pad=P]: the application
 * broadcasts one message {"seq":N,"ts":<µs since the epoch>,"pad":...}
 * (P characters of pad, default 60: 100 bytes; bench/peers.sh asks for 64)
 * to every
 * page with CometEngine.sendToAll; to=jsr: the same data to every session
 * of Tomcat's own JSR-356 endpoint (JsrEndpoint), in a frame of the core's
 * shape and about its size.  ts is read just before the send; the answer
 * (200, the number of sessions for jsr) comes after it, and bench/wsbench
 * does not wait for it.
 */
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.comet4j.core.CometContext;

public class SendServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final int PAD = 60; /* the data is 100 bytes as JSON */

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        int seq = Integer.parseInt(req.getParameter("seq"));
        String to = req.getParameter("to");
        String p = req.getParameter("pad");
        String pad = "x".repeat(p == null ? PAD : Math.max(0, Math.min(1000, Integer.parseInt(p))));
        Instant now = Instant.now();
        long ts = now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
        String answer;
        if ("jsr".equals(to)) {
            String frame = "{\"t\":\"msg\",\"ch\":\"" + ModesApp.CHANNEL + "\",\"e\":\"jsr0\",\"o\":" + (seq + 1)
                    + ",\"data\":{\"seq\":" + seq + ",\"ts\":" + ts + ",\"pad\":\"" + pad + "\"},\"time\":"
                    + ts / 1000 + "}";
            answer = "sent to " + JsrEndpoint.broadcast(frame) + " sessions";
        } else {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("seq", seq);
            data.put("ts", ts);
            data.put("pad", pad);
            CometContext.getInstance().getEngine().sendToAll(ModesApp.CHANNEL, data);
            answer = "sent";
        }
        resp.setContentType("text/plain");
        resp.getWriter().write(answer + "\n");
    }
}
