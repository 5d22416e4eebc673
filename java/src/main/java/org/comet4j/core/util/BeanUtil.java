package org.comet4j.core.util;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;

/** Comet4J's reflection helper. */
public class BeanUtil {

    private BeanUtil() {
    }

    /**
     * The fields declared by obj's class (not inherited ones), name to
     * value, static ones included as in Comet4J; a field the module system
     * keeps closed is left out.
     * @return null for null, or when the class declares no readable field
     */
    @SuppressWarnings("rawtypes")
    public static Map getPropertiesByReflect(Object obj) throws Exception {
        if (obj == null) {
            return null;
        }
        Map<String, Object> map = new HashMap<>();
        for (Field f : obj.getClass().getDeclaredFields()) {
            if (f.isSynthetic()) {
                continue;
            }
            try {
                f.setAccessible(true);
                map.put(f.getName(), Modifier.isStatic(f.getModifiers()) ? f.get(null) : f.get(obj));
            } catch (RuntimeException e) { // InaccessibleObjectException: a closed module
                continue;
            }
        }
        return map.isEmpty() ? null : map;
    }
}
