package org.comet4j;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Comet4J 0.1.7's server API (comet4j-jar/src/org/comet4j, without temp/
 * and event/demo), written down from its sources: every public type with
 * its kind, superclass, interfaces and number of type parameters, and every
 * public constructor, method and field with its erased signature.  Each
 * must exist here, public, the same (javax.servlet became jakarta.servlet;
 * the javax build runs this test with javax again).
 *
 * <p>Not here, on purpose (docs/migration.md): CometServletTomcat6 and
 * CometServletTomcat7 implemented Tomcat 6/7's CometProcessor, with
 * {@code event(CometEvent)}: that API is gone from Tomcat, so the classes
 * are CometServlet under Comet4J's names.
 *
 * <p>Format: a type line "kind name[&lt;n&gt;] [: superclass] [&lt;: ancestor]
 * [&amp; interface]...", kind class, abstract or interface ("&lt;:": Comet4J's
 * three servlets extended HttpServlet, these extend CometServlet, an
 * HttpServlet);
 * kind class, abstract or interface; then its members, indented:
 * "&lt;init&gt;(params)", "[static] return name(params)", "field [static]
 * type name".  Simple names are looked up in Comet4J's packages.
 */
class Comet4jApiTest {

    static final String[] API = {
        // ---- org.comet4j.event ---------------------------------------------------
        "class org.comet4j.event.Event<1>",
        "  <init>(org.comet4j.event.Observable)",
        "  void stopEvent()",
        "  void preventDefault()",
        "  boolean hasStoped()",
        "  boolean hasPreventDefault()",
        "  Observable getTarget()",
        "  void destroy()",
        "class org.comet4j.event.EventSource<2>",
        "  <init>()",
        "  boolean fire(Event)",
        "  void addListener(ListenerInterface)",
        "  void removeListener(ListenerInterface)",
        "  void removeAllListeners()",
        "  ListenerInterface getListener(ListenerInterface)",
        "  List getListeners()",
        "  void destroy()",
        "interface org.comet4j.event.InterceptorInterface<1>",
        "  boolean intercept(Event)",
        "abstract org.comet4j.event.Listener<1> & ListenerInterface",
        "  <init>()",
        "  boolean handleEvent(Event)",
        "interface org.comet4j.event.ListenerInterface<1>",
        "  boolean handleEvent(Event)",
        "class org.comet4j.event.Observable<2>",
        "  <init>()",
        "  void addEventInterceptor(InterceptorInterface)",
        "  void removeEventInterceptor(ListenerInterface)",
        "  void removeAllEventInterceptor()",
        "  boolean eventIntercept(Event)",
        "  void suspendEvents()",
        "  void resumeEvents()",
        "  void addListener(Class, ListenerInterface)",
        "  void removeListener(Class, ListenerInterface)",
        "  void removeListener(Class)",
        "  void removeAllListener()",
        "  List getListeners(Class)",
        "  EventSource getEventSource(Class)",
        "  List getAllEventSource()",
        "  void destroy()",
        "class org.comet4j.event.SubEvent",
        "  <init>()",
        "class org.comet4j.event.SubEventType",
        "  <init>()",
        // ---- org.comet4j.core ------------------------------------------------------
        "class org.comet4j.core.CometAppListener & jakarta.servlet.ServletContextListener",
        "  <init>()",
        "  void contextInitialized(jakarta.servlet.ServletContextEvent)",
        "  void contextDestroyed(jakarta.servlet.ServletContextEvent)",
        "class org.comet4j.core.CometConnection",
        "  <init>(jakarta.servlet.http.HttpServletRequest, jakarta.servlet.http.HttpServletResponse)",
        "  String getId()",
        "  String getClientIp()",
        "  String getClientVersion()",
        "  String getWorkStyle()",
        "  String getState()",
        "  void setState(String)",
        "  long getDyingTime()",
        "  void setDyingTime(long)",
        "  jakarta.servlet.http.HttpServletRequest getRequest()",
        "  void setRequest(jakarta.servlet.http.HttpServletRequest)",
        "  jakarta.servlet.http.HttpServletResponse getResponse()",
        "  void setResponse(jakarta.servlet.http.HttpServletResponse)",
        "  void destroy()",
        "class org.comet4j.core.CometConnector : Observable",
        "  <init>(long, long)",
        "  void destroy()",
        "class org.comet4j.core.CometContext : Observable",
        "  field String version",
        "  void init(jakarta.servlet.ServletContextEvent)",
        "  static CometContext getInstance()",
        "  void log(String)",
        "  void log(String, Throwable)",
        "  Object createInstance(String)",
        "  String getVersion()",
        "  String getWorkStyle()",
        "  CometEngine getEngine()",
        "  int getTimeout()",
        "  int getCacheExpires()",
        "  int getConnExpires()",
        "  boolean isDebug()",
        "  boolean isInit()",
        "  java.util.Locale getLocale()",
        "  jakarta.servlet.ServletContext getServletContext()",
        "  int getCacheFrequency()",
        "  int getConnFrequency()",
        "  List getAppModules()",
        "  void registChannel(String)",
        "  void destroy()",
        "class org.comet4j.core.CometEngine : Observable",
        "  <init>()",
        "  void drop(jakarta.servlet.http.HttpServletRequest, jakarta.servlet.http.HttpServletResponse)",
        "  CometConnection getConnection(String)",
        "  CometConnection getConnection(jakarta.servlet.http.HttpServletRequest)",
        "  List getConnections()",
        "  void sendTo(String, CometConnection, Object)",
        "  void sendTo(String, CometConnection, List)",
        "  void sendTo(String, List, Object)",
        "  void sendToAll(String, Object)",
        "  String getConnectionId(jakarta.servlet.http.HttpServletRequest)",
        "  void addBeforeConnectListener(BeforeConnectListener)",
        "  void removeBeforeConnectListener(BeforeConnectListener)",
        "  void addBeforeDropListener(BeforeDropListener)",
        "  void removeBeforeDropListener(BeforeDropListener)",
        "  void addBeforeRemoveListener(BeforeRemoveListener)",
        "  void removeBeforeRemoveListener(BeforeRemoveListener)",
        "  void addConnectListener(ConnectListener)",
        "  void removeConnectListener(ConnectListener)",
        "  void addDropListener(DropListener)",
        "  void removeDropListener(DropListener)",
        "  void addDyingListener(DyingListener)",
        "  void removeDyingListener(DyingListener)",
        "  void addMessageListener(MessageListener)",
        "  void removeMessageListener(MessageListener)",
        "  void addRemovedListener(RemovedListener)",
        "  void removeRemovedListener(RemovedListener)",
        "  void addRevivalListener(RevivalListener)",
        "  void removeRevivalListener(RevivalListener)",
        "  void destroy()",
        "class org.comet4j.core.CometMessage",
        "  <init>(Object, String)",
        "  long getTime()",
        "  void setTime(long)",
        "  Object getData()",
        "  void setData(Object)",
        "  String getChannel()",
        "  void setChannel(String)",
        "  void destroy()",
        "class org.comet4j.core.CometProtocol",
        "  <init>()",
        "  field static String SYS_CHANNEL",
        "  field static String FLAG_CLIENTVERSION",
        "  field static String FLAG_ID",
        "  field static String FLAG_ACTION",
        "  field static String FLAG_DataStart",
        "  field static String FLAG_DataEnd",
        "  field static String CMD_CONNECT",
        "  field static String CMD_REVIVAL",
        "  field static String CMD_DROP",
        "  field static String WORKSTYLE_LLOOP",
        "  field static String WORKSTYLE_STREAM",
        "  field static String WORKSTYLE_AUTO",
        "  field static String STATE_ALIVE",
        "  field static String STATE_DYING",
        "  field static int HTTPSTATUS_TIMEOUT",
        "  field static int HTTPSTATUS_ERROR",
        "  field static String CONFIG_LANGUAGE",
        "  field static String CONFIG_WORKSTYLE",
        "  field static String CONFIG_ENGINE",
        "  field static String CONFIG_TIMEOUT",
        "  field static String CONFIG_CACHEEXPIRES",
        "  field static String CONFIG_CACHEFREQUENCY",
        "  field static String CONFIG_CONNEXPIRES",
        "  field static String CONFIG_CONNFREQUENCY",
        "  field static String CONFIG_DEBUG",
        "  static String encode(Object)",
        "class org.comet4j.core.CometSender",
        "  <init>(long, long)",
        "  void destroy()",
        "class org.comet4j.core.CometServlet3 <: jakarta.servlet.http.HttpServlet",
        "  <init>()",
        "class org.comet4j.core.CometServletTomcat6 <: jakarta.servlet.http.HttpServlet",
        "  <init>()",
        "  void destroy()",
        "class org.comet4j.core.CometServletTomcat7 <: jakarta.servlet.http.HttpServlet",
        "  <init>()",
        "  void destroy()",
        "class org.comet4j.core.ExpiresCache",
        "  <init>(long, long)",
        "  void push(CometConnection, CometMessage)",
        "  void push(CometConnection, List)",
        "  List get(CometConnection)",
        "  void destroy()",
        "class org.comet4j.core.Language",
        "  <init>()",
        "  static String get(String)",
        "  static String getConnectSuccess()",
        "  static String getConnectFailure()",
        "  void destroy()",
        // ---- org.comet4j.core.dto, .interfaces, .exception ------------------------------------
        "class org.comet4j.core.dto.ConnectionDTO",
        "  <init>(String, String, List, int)",
        "  String getcId()",
        "  void setcId(String)",
        "  List getChannels()",
        "  void setChannels(List)",
        "  String getWs()",
        "  void setWs(String)",
        "  int getTimeout()",
        "  void setTimeout(int)",
        "interface org.comet4j.core.interfaces.CometEngineInterfaces",
        "  void connect(jakarta.servlet.http.HttpServletRequest, jakarta.servlet.http.HttpServletResponse)",
        "  void revival(jakarta.servlet.http.HttpServletRequest, jakarta.servlet.http.HttpServletResponse)",
        "  void drop(jakarta.servlet.http.HttpServletRequest, jakarta.servlet.http.HttpServletResponse)",
        "  void timeout(jakarta.servlet.http.HttpServletRequest, jakarta.servlet.http.HttpServletResponse)",
        "  List getConnections()",
        "  void send(String)",
        "  void publish(String)",
        "interface org.comet4j.core.interfaces.JSONSerializable",
        "class org.comet4j.core.exception.CometException : RuntimeException",
        "  <init>(String)",
        "  <init>(Throwable)",
        "  Throwable getCause()",
        "class org.comet4j.core.exception.DoubleAppModuleKeyException : org.comet4j.core.exception.CometException",
        "  <init>(String)",
        // ---- org.comet4j.core.event -------------------------------------------------------------
        "class org.comet4j.core.event.BeforeConnectEvent : Event",
        "  <init>(CometEngine, jakarta.servlet.http.HttpServletRequest, jakarta.servlet.http.HttpServletResponse)",
        "  jakarta.servlet.http.HttpServletRequest getRequest()",
        "  void setRequest(jakarta.servlet.http.HttpServletRequest)",
        "  jakarta.servlet.http.HttpServletResponse getResponse()",
        "  void setResponse(jakarta.servlet.http.HttpServletResponse)",
        "  void destroy()",
        "class org.comet4j.core.event.BeforeDropEvent : Event",
        "  <init>(CometEngine, jakarta.servlet.http.HttpServletRequest)",
        "  jakarta.servlet.http.HttpServletRequest getRequest()",
        "  void setRequest(jakarta.servlet.http.HttpServletRequest)",
        "  void destroy()",
        "class org.comet4j.core.event.BeforeRemoveEvent : Event",
        "  <init>(CometEngine, CometConnection)",
        "  CometConnection getConn()",
        "  void setConn(CometConnection)",
        "  void destroy()",
        "class org.comet4j.core.event.CometContextEvent : Event",
        "  field static org.comet4j.event.SubEventType INITIALIZED",
        "  field static org.comet4j.event.SubEventType DESTROYED",
        "  <init>(CometContext, org.comet4j.event.SubEventType)",
        "  org.comet4j.event.SubEventType getSubType()",
        "  void setSubType(org.comet4j.event.SubEventType)",
        "  jakarta.servlet.ServletContext getServletContext()",
        "  void setServletContext(jakarta.servlet.ServletContext)",
        "  CometContext getCometContext()",
        "  void setCometContext(CometContext)",
        "  void destroy()",
        "class org.comet4j.core.event.ConnectEvent : Event",
        "  <init>(CometEngine, CometConnection)",
        "  CometConnection getConn()",
        "  void setConn(CometConnection)",
        "  void destroy()",
        "class org.comet4j.core.event.DropEvent : Event",
        "  <init>(CometEngine, CometConnection)",
        "  CometConnection getConn()",
        "  void setConn(CometConnection)",
        "  void destroy()",
        "class org.comet4j.core.event.DyingEvent : Event",
        "  <init>(CometEngine, CometConnection)",
        "  CometConnection getConn()",
        "  void setConn(CometConnection)",
        "  void destroy()",
        "class org.comet4j.core.event.ErrorEvent : Event",
        "  <init>(CometEngine, Exception)",
        "  Exception getErr()",
        "  void setErr(Exception)",
        "class org.comet4j.core.event.MessageEvent : Event",
        "  <init>(CometEngine, CometConnection, CometMessage)",
        "  CometConnection getConn()",
        "  void setConn(CometConnection)",
        "  CometMessage getData()",
        "  void setData(CometMessage)",
        "  void destroy()",
        "class org.comet4j.core.event.RemovedEvent : Event",
        "  <init>(CometEngine, CometConnection)",
        "  CometConnection getConn()",
        "  void setConn(CometConnection)",
        "  void destroy()",
        "class org.comet4j.core.event.RevivalEvent : Event",
        "  <init>(CometEngine, CometConnection)",
        "  CometConnection getConn()",
        "  void setConn(CometConnection)",
        "  void destroy()",
        // ---- org.comet4j.core.listener ------------------------------------------------------------
        "abstract org.comet4j.core.listener.BeforeConnectListener : Listener",
        "  <init>()",
        "  boolean handleEvent(Event)",
        "abstract org.comet4j.core.listener.BeforeDropListener : Listener",
        "  <init>()",
        "abstract org.comet4j.core.listener.BeforeRemoveListener : Listener",
        "  <init>()",
        "abstract org.comet4j.core.listener.CometContextListener : Listener",
        "  <init>()",
        "  boolean handleEvent(CometContextEvent)",
        "  boolean onInitialized(CometContextEvent)",
        "  boolean onDestroyed(CometContextEvent)",
        "abstract org.comet4j.core.listener.ConnectListener : Listener",
        "  <init>()",
        "abstract org.comet4j.core.listener.DropListener : Listener",
        "  <init>()",
        "abstract org.comet4j.core.listener.DyingListener : Listener",
        "  <init>()",
        "abstract org.comet4j.core.listener.ErrorListener : Listener",
        "  <init>()",
        "abstract org.comet4j.core.listener.MessageListener : Listener",
        "  <init>()",
        "abstract org.comet4j.core.listener.RemovedListener : Listener",
        "  <init>()",
        "abstract org.comet4j.core.listener.RevivalListener : Listener",
        "  <init>()",
        // ---- org.comet4j.core.util ------------------------------------------------------------------
        "class org.comet4j.core.util.BeanUtil",
        "  static Map getPropertiesByReflect(Object)",
        "class org.comet4j.core.util.CharacterEncodingFilter & jakarta.servlet.Filter",
        "  <init>()",
        "  void destroy()",
        "  void doFilter(jakarta.servlet.ServletRequest, jakarta.servlet.ServletResponse, jakarta.servlet.FilterChain)",
        "  void init(jakarta.servlet.FilterConfig)",
        "class org.comet4j.core.util.DelayTask",
        "  <init>()",
        "  <init>(int)",
        "  void delay(String, Runnable, long, java.util.concurrent.TimeUnit)",
        "  void cancel(String)",
        "  void cancelAllTask()",
        "  void shutdown()",
        "class org.comet4j.core.util.ExplorerUtil",
        "  <init>()",
        "  static Boolean isIE(jakarta.servlet.http.HttpServletRequest)",
        "  static Boolean isFirefox(jakarta.servlet.http.HttpServletRequest)",
        "  static Boolean isOpera(jakarta.servlet.http.HttpServletRequest)",
        "  static Boolean isChrome(jakarta.servlet.http.HttpServletRequest)",
        "  static Boolean isAir(jakarta.servlet.http.HttpServletRequest)",
        "  static Boolean isSafari(jakarta.servlet.http.HttpServletRequest)",
        "  static Boolean canStreamingXHR(jakarta.servlet.http.HttpServletRequest)",
        "class org.comet4j.core.util.JSONUtil",
        "  <init>()",
        "  static String object2json(Object)",
        "  static String bean2json(Object)",
        "  static String list2json(List)",
        "  static String array2json(Object[])",
        "  static String map2json(Map)",
        "  static String set2json(java.util.Set)",
        "  static String string2json(String)",
        "class org.comet4j.core.util.NetUtil",
        "  <init>()",
        "  static String getIpAddr(jakarta.servlet.http.HttpServletRequest)",
    };

    private static final String[] PACKAGES = {"java.lang.", "org.comet4j.event.", "org.comet4j.core.",
        "org.comet4j.core.event.", "org.comet4j.core.listener.", "org.comet4j.core.dto.", "java.util."};

    private static Class<?> type(String name) {
        switch (name) {
            case "void": return void.class;
            case "boolean": return boolean.class;
            case "int": return int.class;
            case "long": return long.class;
            default: break;
        }
        if (name.endsWith("[]")) {
            return java.lang.reflect.Array.newInstance(type(name.substring(0, name.length() - 2)), 0).getClass();
        }
        if (name.contains(".")) {
            try {
                return Class.forName(name);
            } catch (ClassNotFoundException e) {
                return null;
            }
        }
        for (String p : PACKAGES) {
            try {
                return Class.forName(p + name);
            } catch (ClassNotFoundException e) {
                // the next package
            }
        }
        return null;
    }

    private static Class<?>[] params(String list, List<String> problems, String where) {
        String inside = list.substring(list.indexOf('(') + 1, list.lastIndexOf(')')).trim();
        if (inside.isEmpty()) {
            return new Class<?>[0];
        }
        String[] names = inside.split(",\\s*");
        Class<?>[] out = new Class<?>[names.length];
        for (int i = 0; i < names.length; i++) {
            out[i] = type(names[i].trim());
            if (out[i] == null) {
                problems.add(where + ": unknown type " + names[i]);
            }
        }
        return out;
    }

    @Test
    void everyPublicTypeAndMemberOfComet4jIsHere() {
        List<String> problems = new ArrayList<>();
        Class<?> current = null;
        int types = 0;
        int members = 0;
        for (String line : API) {
            if (!line.startsWith("  ")) {
                types++;
                current = checkType(line, problems);
                continue;
            }
            members++;
            if (current == null) {
                continue; // the type's problem is counted already
            }
            checkMember(current, line.trim(), problems);
        }
        if (!problems.isEmpty()) {
            fail(problems.size() + " of Comet4J's " + types + " types and " + members + " members differ:\n  "
                    + String.join("\n  ", problems));
        }
        assertTrue(types >= 54 && members >= 274, types + " types, " + members + " members: the list shrank");
    }

    private static Class<?> checkType(String line, List<String> problems) {
        String[] parts = line.split(" ");
        String kind = parts[0];
        String name = parts[1];
        int typeParams = 0;
        int lt = name.indexOf('<');
        if (lt > 0) {
            typeParams = Integer.parseInt(name.substring(lt + 1, name.length() - 1));
            name = name.substring(0, lt);
        }
        Class<?> c = type(name);
        if (c == null) {
            problems.add(name + ": missing");
            return null;
        }
        int m = c.getModifiers();
        if (!Modifier.isPublic(m)) {
            problems.add(name + ": not public");
        }
        boolean isInterface = c.isInterface();
        boolean isAbstract = Modifier.isAbstract(m) && !isInterface;
        if (kind.equals("interface") != isInterface || kind.equals("abstract") != isAbstract) {
            problems.add(name + ": not " + (kind.equals("class") ? "a concrete class" : "an " + kind));
        }
        if (c.getTypeParameters().length != typeParams) {
            problems.add(name + ": " + c.getTypeParameters().length + " type parameters, not " + typeParams);
        }
        for (int i = 2; i + 1 < parts.length; i += 2) {
            Class<?> other = type(parts[i + 1]);
            if (other == null) {
                problems.add(name + ": unknown type " + parts[i + 1]);
            } else if (parts[i].equals("<:") && (other == c || !other.isAssignableFrom(c))) {
                problems.add(name + ": not a subclass of " + other.getName());
            } else if (parts[i].equals(":") && c.getSuperclass() != other) {
                problems.add(name + ": extends " + c.getSuperclass() + ", not " + other.getName());
            } else if (parts[i].equals("&") && !other.isAssignableFrom(c)) {
                problems.add(name + ": does not implement " + other.getName());
            }
        }
        return c;
    }

    private static void checkMember(Class<?> c, String line, List<String> problems) {
        String where = c.getName() + " " + line;
        if (line.startsWith("<init>")) {
            try {
                Constructor<?> k = c.getConstructor(params(line, problems, where));
                if (!Modifier.isPublic(k.getModifiers())) {
                    problems.add(where + ": not public");
                }
            } catch (NoSuchMethodException e) {
                problems.add(where + ": missing");
            }
            return;
        }
        boolean isStatic = false;
        if (line.startsWith("field ")) {
            String[] f = line.substring(6).split(" ");
            int i = 0;
            if (f[0].equals("static")) {
                isStatic = true;
                i = 1;
            }
            Class<?> t = type(f[i]);
            try {
                Field field = c.getField(f[i + 1]);
                if (field.getType() != t) {
                    problems.add(where + ": is a " + field.getType().getName());
                }
                if (Modifier.isStatic(field.getModifiers()) != isStatic) {
                    problems.add(where + ": static is " + Modifier.isStatic(field.getModifiers()));
                }
            } catch (NoSuchFieldException e) {
                problems.add(where + ": missing");
            }
            return;
        }
        String sig = line;
        if (sig.startsWith("static ")) {
            isStatic = true;
            sig = sig.substring(7);
        }
        String ret = sig.substring(0, sig.indexOf(' '));
        String name = sig.substring(sig.indexOf(' ') + 1, sig.indexOf('('));
        Class<?> r = type(ret);
        try {
            Method m = c.getMethod(name, params(sig, problems, where));
            if (m.getReturnType() != r) {
                problems.add(where + ": returns " + m.getReturnType().getName());
            }
            if (Modifier.isStatic(m.getModifiers()) != isStatic) {
                problems.add(where + ": static is " + Modifier.isStatic(m.getModifiers()));
            }
        } catch (NoSuchMethodException e) {
            problems.add(where + ": missing");
        }
    }

    /** The list itself: every type line names a type once. */
    @Test
    void theListNamesEachTypeOnce() {
        Map<String, Integer> seen = new HashMap<>();
        for (String line : API) {
            if (!line.startsWith("  ")) {
                String n = line.split(" ")[1];
                assertTrue(seen.put(n, 1) == null, "twice: " + n);
            }
        }
    }
}
