package io.kvmfilter.spring;

import io.kvmfilter.filter.KvmFilter;
import io.kvmfilter.filter.KvmFilterConfig;
import io.kvmfilter.filter.KvmStatsServlet;
import io.kvmfilter.filter.ProgramServlet;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRegistration;
import java.util.Locale;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletContextInitializer;
import org.springframework.context.annotation.Bean;

/**
 * Registers {@link KvmFilter} for the servlet web application, configured from the {@code kvmfilter.*} properties
 * ({@link KvmFilterProperties}) or from a {@link KvmFilterConfig} bean of the application's, plus the program
 * servlets of {@code kvmfilter.servlets.*} and the statistics servlet at {@code kvmfilter.stats-path}.
 *
 * <p>The filter is mapped for REQUEST and ASYNC dispatches with async support, as docs/configuration.md requires.
 * A bean named {@value #FILTER_REGISTRATION_BEAN} of the application's replaces the filter registration;
 * {@code kvmfilter.enabled=false} turns everything off.
 */
@AutoConfiguration
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass(KvmFilter.class)
@ConditionalOnProperty(prefix = KvmFilterProperties.PREFIX, name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(KvmFilterProperties.class)
public class KvmFilterAutoConfiguration {

    /** The bean name of the filter registration. */
    public static final String FILTER_REGISTRATION_BEAN = "kvmFilterRegistration";
    /** The filter's name in the servlet context (and in its sandbox's name, {@code filter-ROOT-kvmfilter-<n>}). */
    public static final String FILTER_NAME = "kvmfilter";
    /** The statistics servlet's name in the servlet context. */
    public static final String STATS_SERVLET_NAME = "kvmfilterStats";

    /**
     * The filter, with the application's {@link KvmFilterConfig} bean when it has one, else the properties.
     *
     * @throws IllegalArgumentException when a property is invalid, naming it, its value and what is allowed
     */
    @Bean(name = FILTER_REGISTRATION_BEAN)
    @ConditionalOnMissingBean(name = FILTER_REGISTRATION_BEAN)
    public FilterRegistrationBean<KvmFilter> kvmFilterRegistration(KvmFilterProperties properties,
            ObjectProvider<KvmFilterConfig> givenConfig) {
        KvmFilterConfig config = givenConfig.getIfAvailable(() -> filterConfig(properties));
        FilterRegistrationBean<KvmFilter> registration = new FilterRegistrationBean<>(new KvmFilter(config));
        registration.setName(FILTER_NAME);
        registration.setUrlPatterns(properties.getUrlPatterns());
        registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC);
        registration.setAsyncSupported(true);
        registration.setOrder(properties.getOrder());
        return registration;
    }

    /** The program servlets and the statistics servlet, added when the web server starts. */
    @Bean
    public ServletContextInitializer kvmFilterServlets(KvmFilterProperties properties) {
        return context -> {
            properties.getServlets().forEach((name, servlet) -> addProgramServlet(context, name, servlet));
            String statsPath = properties.getStatsPath();
            if (statsPath != null && !statsPath.isBlank()) {
                ServletRegistration.Dynamic stats = add(context, STATS_SERVLET_NAME, new KvmStatsServlet());
                stats.addMapping(statsPath.trim());
            }
        };
    }

    /**
     * Builds the filter configuration from the properties.
     *
     * @throws IllegalArgumentException naming the property, its value and what is allowed
     */
    static KvmFilterConfig filterConfig(KvmFilterProperties properties) {
        KvmFilterConfig.Builder builder = KvmFilterConfig.builder();
        for (Map.Entry<String, String> parameter : properties.filterParameters().entrySet()) {
            try {
                builder.parameter(parameter.getKey(), parameter.getValue());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage() + " (from property " + KvmFilterProperties.PREFIX
                        + "." + kebab(parameter.getKey()) + ")", e);
            }
        }
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " (from the " + KvmFilterProperties.PREFIX
                    + ".* properties)", e);
        }
    }

    private static void addProgramServlet(ServletContext context, String name, ProgramServletProperties servlet) {
        String prefix = KvmFilterProperties.PREFIX + ".servlets." + name;
        if (servlet.getUrlPatterns().isEmpty()) {
            throw new IllegalArgumentException(prefix + ".url-patterns is empty; give the paths the servlet answers,"
                    + " e.g. /" + name + "/*");
        }
        ServletRegistration.Dynamic registration = add(context, name, new ProgramServlet());
        registration.setInitParameters(servlet.initParameters());
        registration.addMapping(servlet.getUrlPatterns().toArray(String[]::new));
        registration.setAsyncSupported(true);
        // Initialised with the application: a bad parameter or a missing program shows at start, not at the first request.
        registration.setLoadOnStartup(1);
    }

    private static ServletRegistration.Dynamic add(ServletContext context, String name, jakarta.servlet.Servlet servlet) {
        ServletRegistration.Dynamic registration = context.addServlet(name, servlet);
        if (registration == null) {
            throw new IllegalArgumentException("a servlet named '" + name + "' is already registered; give the"
                    + " kvmfilter servlet another name");
        }
        return registration;
    }


    /** {@code maxBodySize} is {@code max-body-size}: the canonical form of a Spring property name. */
    static String kebab(String name) {
        return name.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }
}
