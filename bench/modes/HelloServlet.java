/*
 * HelloServlet - GET /hello: a short fixed JSON body and nothing else, the
 * cheapest request a servlet in this Tomcat answers.  bench/handshakes.sh
 * storms it as CometServlet's handshake is stormed: the container's own
 * ceiling for a request on a new connection, in the same Tomcat and run.
 */
import java.io.IOException;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

public class HelloServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final byte[] BODY = "{\"hello\":\"world\"}".getBytes(StandardCharsets.US_ASCII);

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        resp.setContentType("application/json");
        resp.setContentLength(BODY.length);
        resp.getOutputStream().write(BODY);
    }
}
