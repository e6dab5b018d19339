package io.aiq.circles.charts;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fields of a rendered object that its Kubernetes kind does not have: the model keeps them aside in
 * {@code additionalProperties} instead of failing, so a misspelt field (livenesProbe) would render,
 * install, and be silently ignored by the API server. This finds them.
 */
final class UnknownFields {
  private UnknownFields() {
  }

  static List<String> in(Object object) {
    List<String> found = new ArrayList<>();
    walk(object, object instanceof GenericKubernetesResource ? "metadata" : "", found, new IdentityHashMap<>());
    return found;
  }

  private static void walk(Object o, String path, List<String> found, IdentityHashMap<Object, Boolean> seen) {
    if (o == null || seen.put(o, true) != null) {
      return;
    }
    if (o instanceof GenericKubernetesResource g) {
      // a custom resource: its spec is free-form here; only its metadata is a known shape
      walk(g.getMetadata(), path, found, seen);
      return;
    }
    if (o instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        walk(list.get(i), path + "[" + i + "]", found, seen);
      }
      return;
    }
    if (o instanceof Map<?, ?> map) {
      map.forEach((k, v) -> walk(v, path + "." + k, found, seen));
      return;
    }
    if (!o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
      return;
    }
    for (Method m : o.getClass().getMethods()) {
      if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || !m.getName().startsWith("get")
          || m.getDeclaringClass() == Object.class) {
        continue;
      }
      try {
        Object value = m.invoke(o);
        String name = Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4);
        if (name.equals("additionalProperties")) {
          if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
            found.add((path.isEmpty() ? "" : path + ".") + extra.keySet());
          }
        } else {
          walk(value, path.isEmpty() ? name : path + "." + name, found, seen);
        }
      } catch (ReflectiveOperationException | RuntimeException e) {
        // not a property
      }
    }
  }
}
