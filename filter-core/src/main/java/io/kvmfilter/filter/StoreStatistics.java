package io.kvmfilter.filter;

import io.kvmfilter.store.TierStatistics;
import java.util.Map;

/** The "store" part of the statistics JSON: each result store tier, then each variant's waiting line. */
final class StoreStatistics {

    private StoreStatistics() {
    }

    static String json(TransformRunner runner) {
        StringBuilder json = new StringBuilder("{\"tiers\": {");
        if (runner.storing()) {
            boolean first = true;
            for (TierStatistics tier : runner.store().statistics()) {
                json.append(first ? "" : ", ").append(KvmStatsServlet.quote(tier.getTier())).append(": ");
                object(json, tier.toMap());
                first = false;
            }
        }
        json.append("}, \"lines\": {");
        boolean first = true;
        for (Map.Entry<String, Map<String, Long>> line : runner.lines().entrySet()) {
            json.append(first ? "" : ", ").append(KvmStatsServlet.quote(line.getKey())).append(": ");
            object(json, line.getValue());
            first = false;
        }
        return json.append("}}").toString();
    }

    private static void object(StringBuilder json, Map<String, ?> values) {
        json.append('{');
        boolean first = true;
        for (Map.Entry<String, ?> value : values.entrySet()) {
            json.append(first ? "" : ", ").append(KvmStatsServlet.quote(value.getKey())).append(": ")
                    .append(value.getValue());
            first = false;
        }
        json.append('}');
    }
}
