package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.comet4j.test.FakeHttp;
import org.comet4j.test.MiniJson;
import org.junit.jupiter.api.Test;

/** The handshake servlet when no engine runs. */
class CometServletStoppedTest {

    @Test
    void noEngineIs503() throws Exception {
        FakeHttp.Resp r = Harness.handshake(new FakeHttp.Req().param("cmd", "conn"));
        assertEquals(503, r.status);
        assertEquals(5030L, ((java.util.Map<?, ?>) MiniJson.object(r.body.toString()).get("error")).get("code"));
        CometContext.getInstance().destroy();
    }
}
