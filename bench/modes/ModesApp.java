/*
 * ModesApp - bench/modes.sh's application: registers the channel every
 * page of the bench is on.  After CometAppListener in web.xml, so the
 * engine is there.
 */
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;

import org.comet4j.core.CometContext;

public class ModesApp implements ServletContextListener {
    static final String CHANNEL = "bench";

    @Override
    public void contextInitialized(ServletContextEvent sce) {
        CometContext.getInstance().registChannel(CHANNEL);
    }

    @Override
    public void contextDestroyed(ServletContextEvent sce) {
    }
}
