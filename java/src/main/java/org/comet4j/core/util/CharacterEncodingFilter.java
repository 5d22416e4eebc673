package org.comet4j.core.util;

import java.io.IOException;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;

/**
 * Comet4J's filter that sets the character encoding of requests and
 * responses, so parameters and output are decoded and encoded alike.  The
 * init-param {@code encoding} names it; the default is UTF-8.  (Comet4J's
 * re-decoded GET parameters from ISO-8859-1, Tomcat 6's default URI
 * encoding; Tomcat 8 and later decode URIs as UTF-8, which this keeps.)
 */
public class CharacterEncodingFilter implements Filter {

    /** The encoding set (Comet4J's field); UTF-8 unless the init-param says otherwise. */
    protected String encoding = "UTF-8";
    /** The filter's configuration, once initialized (Comet4J's field). */
    protected FilterConfig filterConfig = null;

    @Override
    public void init(FilterConfig config) throws ServletException {
        this.filterConfig = config;
        String e = config.getInitParameter("encoding");
        if (e != null && !e.trim().isEmpty()) {
            encoding = e.trim();
        }
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        request.setCharacterEncoding(encoding);
        response.setCharacterEncoding(encoding);
        chain.doFilter(request, response);
    }

    /** The encoding this filter sets. */
    public String getEncoding() {
        return encoding;
    }

    /**
     * Nothing to release.  Declared, not inherited: Servlet 3.1 containers
     * (Jetty 9.4, through the javax build) have no default destroy() and
     * would fail with AbstractMethodError when the application stops.
     */
    @Override
    public void destroy() {
    }
}
