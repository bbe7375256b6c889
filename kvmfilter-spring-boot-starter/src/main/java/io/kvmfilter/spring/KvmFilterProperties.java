package io.kvmfilter.spring;

import io.kvmfilter.filter.KvmFilterConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.core.Ordered;

/**
 * The {@code kvmfilter.*} properties. The filter parameters have the names and text forms of
 * docs/configuration.md, bound with Spring's relaxed binding: {@code kvmfilter.max-body-size=16MiB} in
 * application.properties, {@code KVMFILTER_MAXBODYSIZE=16MiB} in the environment. Values are checked when the
 * application starts; a bad one fails the start with a message naming the property, its value and what is allowed.
 */
@ConfigurationProperties(prefix = KvmFilterProperties.PREFIX)
public class KvmFilterProperties extends ProgramRunProperties {

    /** The prefix of every property. */
    public static final String PREFIX = "kvmfilter";

    /** Whether the filter, its servlets and its health indicator and metrics are set up at all. */
    private boolean enabled = true;

    /** URL patterns the filter is mapped to (Servlet patterns: {@code /*}, {@code /images/*}, {@code *.jpg}). */
    private List<String> urlPatterns = new ArrayList<>(List.of("/*"));

    /** The filter's position in the chain: lower runs earlier. Default: last, next to the servlet. */
    private int order = Ordered.LOWEST_PRECEDENCE;

    /** Where to mount the statistics servlet ({@code KvmStatsServlet}), e.g. {@code /_kvm/stats}; empty: not mounted. */
    private String statsPath;

    /** Which programs run for which responses: the rules text of docs/configuration.md. Default: JPEG and PNG to AVIF or WebP as the client accepts, HTML, CSS and JavaScript minified. */
    private String rules;

    /** Path specs transformed (comma or space separated); empty: every path. */
    private String includedPaths;

    /** Path specs never transformed. */
    private String excludedPaths;

    /** Media types transformed ({@code type/subtype} or {@code type/*}); empty: every type a rule covers. */
    private String includedMimeTypes;

    /** Media types never transformed. */
    private String excludedMimeTypes;

    /** HTTP methods transformed; default GET, HEAD. */
    private String includedMethods;

    /** HTTP methods never transformed. */
    private String excludedMethods;

    /** Response statuses transformed; default 200. */
    private String statuses;

    /** Smallest body transformed, e.g. {@code 32} or {@code 1KiB}; default 32. */
    private String minBodySize;

    /** Largest body buffered and transformed, e.g. {@code 8MiB} (the default); larger ones stream through. */
    private String maxBodySize;

    /** Largest image (width times height) decoded; default 50000000. */
    private String maxPixels;

    /** Bytes of transformed results kept in memory, e.g. {@code 32MiB} (the default); 0 turns the cache off. */
    private String cacheSize;

    /** Answer HEAD as the transformed GET would be ({@code true}, the default, or {@code false}). */
    private String headAsGet;

    /** Serve a negotiated variant to a client that accepts only wildcards (Accept: &#42;/&#42;) ({@code false} by default). */
    private String variantsForWildcards;

    /** Serve a result only when it is smaller than the original ({@code true} by default). */
    private String requireSmaller;

    /** Answer the programs' self-requests from this application ({@code false} by default: refused). */
    private String selfRequests;

    /** The header saying what the filter did ({@code X-KVM-Transform}), or {@code none}. */
    private String diagnosticHeader;


    /** Further filter parameters by their init-param names, for parameters newer than these properties. */
    private Map<String, String> parameters = new LinkedHashMap<>();

    /** Program servlets by servlet name: each answers requests with what its program produces. */
    private Map<String, ProgramServletProperties> servlets = new LinkedHashMap<>();

    /**
     * The filter parameters that are set, by init-param name, in the text form {@link KvmFilterConfig.Builder#parameter}
     * reads.
     */
    public Map<String, String> filterParameters() {
        Map<String, String> values = new LinkedHashMap<>(parameters);
        putIfSet(values, KvmFilterConfig.PARAM_RULES, rules);
        putIfSet(values, KvmFilterConfig.PARAM_INCLUDED_PATHS, includedPaths);
        putIfSet(values, KvmFilterConfig.PARAM_EXCLUDED_PATHS, excludedPaths);
        putIfSet(values, KvmFilterConfig.PARAM_INCLUDED_MIME_TYPES, includedMimeTypes);
        putIfSet(values, KvmFilterConfig.PARAM_EXCLUDED_MIME_TYPES, excludedMimeTypes);
        putIfSet(values, KvmFilterConfig.PARAM_INCLUDED_METHODS, includedMethods);
        putIfSet(values, KvmFilterConfig.PARAM_EXCLUDED_METHODS, excludedMethods);
        putIfSet(values, KvmFilterConfig.PARAM_STATUSES, statuses);
        putIfSet(values, KvmFilterConfig.PARAM_MIN_BODY_SIZE, minBodySize);
        putIfSet(values, KvmFilterConfig.PARAM_MAX_BODY_SIZE, maxBodySize);
        putIfSet(values, KvmFilterConfig.PARAM_MAX_PIXELS, maxPixels);
        putIfSet(values, KvmFilterConfig.PARAM_CACHE_SIZE, cacheSize);
        putIfSet(values, KvmFilterConfig.PARAM_HEAD_AS_GET, headAsGet);
        putIfSet(values, KvmFilterConfig.PARAM_VARIANTS_FOR_WILDCARDS, variantsForWildcards);
        putIfSet(values, KvmFilterConfig.PARAM_REQUIRE_SMALLER, requireSmaller);
        putIfSet(values, KvmFilterConfig.PARAM_SELF_REQUESTS, selfRequests);
        putIfSet(values, KvmFilterConfig.PARAM_DIAGNOSTIC_HEADER, diagnosticHeader);
        putProgramRunParameters(values);
        return values;
    }

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public List<String> getUrlPatterns() {
        return urlPatterns;
    }

    public void setUrlPatterns(List<String> urlPatterns) {
        this.urlPatterns = urlPatterns;
    }

    public int getOrder() {
        return order;
    }

    public void setOrder(int order) {
        this.order = order;
    }

    public String getStatsPath() {
        return statsPath;
    }

    public void setStatsPath(String statsPath) {
        this.statsPath = statsPath;
    }

    public String getRules() {
        return rules;
    }

    public void setRules(String rules) {
        this.rules = rules;
    }

    public String getIncludedPaths() {
        return includedPaths;
    }

    public void setIncludedPaths(String includedPaths) {
        this.includedPaths = includedPaths;
    }

    public String getExcludedPaths() {
        return excludedPaths;
    }

    public void setExcludedPaths(String excludedPaths) {
        this.excludedPaths = excludedPaths;
    }

    public String getIncludedMimeTypes() {
        return includedMimeTypes;
    }

    public void setIncludedMimeTypes(String includedMimeTypes) {
        this.includedMimeTypes = includedMimeTypes;
    }

    public String getExcludedMimeTypes() {
        return excludedMimeTypes;
    }

    public void setExcludedMimeTypes(String excludedMimeTypes) {
        this.excludedMimeTypes = excludedMimeTypes;
    }

    public String getIncludedMethods() {
        return includedMethods;
    }

    public void setIncludedMethods(String includedMethods) {
        this.includedMethods = includedMethods;
    }

    public String getExcludedMethods() {
        return excludedMethods;
    }

    public void setExcludedMethods(String excludedMethods) {
        this.excludedMethods = excludedMethods;
    }

    public String getStatuses() {
        return statuses;
    }

    public void setStatuses(String statuses) {
        this.statuses = statuses;
    }

    public String getMinBodySize() {
        return minBodySize;
    }

    public void setMinBodySize(String minBodySize) {
        this.minBodySize = minBodySize;
    }

    public String getMaxBodySize() {
        return maxBodySize;
    }

    public void setMaxBodySize(String maxBodySize) {
        this.maxBodySize = maxBodySize;
    }

    public String getMaxPixels() {
        return maxPixels;
    }

    public void setMaxPixels(String maxPixels) {
        this.maxPixels = maxPixels;
    }

    public String getCacheSize() {
        return cacheSize;
    }

    public void setCacheSize(String cacheSize) {
        this.cacheSize = cacheSize;
    }

    public String getHeadAsGet() {
        return headAsGet;
    }

    public void setHeadAsGet(String headAsGet) {
        this.headAsGet = headAsGet;
    }

    public String getVariantsForWildcards() {
        return variantsForWildcards;
    }

    public void setVariantsForWildcards(String variantsForWildcards) {
        this.variantsForWildcards = variantsForWildcards;
    }

    public String getRequireSmaller() {
        return requireSmaller;
    }

    public void setRequireSmaller(String requireSmaller) {
        this.requireSmaller = requireSmaller;
    }

    public String getSelfRequests() {
        return selfRequests;
    }

    public void setSelfRequests(String selfRequests) {
        this.selfRequests = selfRequests;
    }

    public String getDiagnosticHeader() {
        return diagnosticHeader;
    }

    public void setDiagnosticHeader(String diagnosticHeader) {
        this.diagnosticHeader = diagnosticHeader;
    }


    public Map<String, String> getParameters() {
        return parameters;
    }

    public void setParameters(Map<String, String> parameters) {
        this.parameters = parameters;
    }

    public Map<String, ProgramServletProperties> getServlets() {
        return servlets;
    }

    public void setServlets(Map<String, ProgramServletProperties> servlets) {
        this.servlets = servlets;
    }
}
