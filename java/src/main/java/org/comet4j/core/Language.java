package org.comet4j.core;

import java.util.Locale;
import java.util.MissingResourceException;
import java.util.ResourceBundle;

/**
 * The texts of comet4j in the language of Comet.Language (Comet4J's
 * Language, which read language-cn.xml or language-en.xml): {@code zh} for
 * Chinese ({@link Messages_zh}), anything else English ({@link Messages}).
 * Start-up, refusal and configuration texts come from here.  Comet4J's keys
 * (ConnectSuccess, ConnectFailure, InitComplete, DoubleAppModuleKey) are
 * there too.
 */
public class Language {

    private static final String BUNDLE = "org.comet4j.core.Messages";

    /** The text of key in the application's language (CometContext.getLocale()), or null. */
    public static String get(String key) {
        return text(CometContext.getInstance().getLocale(), key);
    }

    /** "Successful connection", or its Chinese. */
    public static String getConnectSuccess() {
        return get("ConnectSuccess");
    }

    /** "Connection Failure", or its Chinese. */
    public static String getConnectFailure() {
        return get("ConnectFailure");
    }

    /** The text of key in locale's language (zh or English), formatted with args; null for an unknown key. */
    static String text(Locale locale, String key, Object... args) {
        Locale l = locale != null && "zh".equals(locale.getLanguage()) ? Locale.CHINESE : Locale.ROOT;
        String pattern;
        try {
            pattern = ResourceBundle.getBundle(BUNDLE, l, Language.class.getClassLoader(),
                    ResourceBundle.Control.getNoFallbackControl(ResourceBundle.Control.FORMAT_CLASS))
                    .getString(key);
        } catch (MissingResourceException e) {
            return null;
        }
        return args.length == 0 ? pattern : String.format(pattern, args);
    }

    /** {@link #text} in the application's language. */
    static String t(String key, Object... args) {
        return text(CometContext.getInstance().getLocale(), key, args);
    }

    /** Nothing to forget: bundles are cached by the JDK (Comet4J dropped its table). */
    public void destroy() {
    }
}
