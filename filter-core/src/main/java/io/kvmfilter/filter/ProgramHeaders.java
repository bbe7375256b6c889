package io.kvmfilter.filter;

import io.kvmfilter.kvm.HeaderField;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The response headers of a chain's last program that a filter lets through to clients (its
 * {@code programHeaders}): applied where the result is made, so the store keeps only those, and again where it is
 * served, since a shared tier may hold results another node made.
 */
final class ProgramHeaders {

    private ProgramHeaders() {
    }

    /**
     * @param fields  "Name: value" fields as the program set them
     * @param allowed lower-case names
     * @return the fields whose name is allowed, in order
     */
    static List<String> allowed(List<String> fields, Set<String> allowed) {
        if (allowed.isEmpty() || fields.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String field : fields) {
            HeaderField parsed = HeaderField.parse(field);
            if (parsed != null && allowed.contains(parsed.key())) {
                out.add(field);
            }
        }
        return out;
    }
}
