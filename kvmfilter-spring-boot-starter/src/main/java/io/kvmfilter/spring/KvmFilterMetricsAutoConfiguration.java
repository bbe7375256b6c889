package io.kvmfilter.spring;

import io.kvmfilter.micrometer.KvmMetrics;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/**
 * The sandboxes' Micrometer meters ({@link KvmMetrics}, see docs/prometheus.md), when Micrometer and
 * kvmfilter-micrometer are on the class path: Spring Boot binds the bean to its meter registries, so the meters
 * appear in {@code /actuator/metrics} and {@code /actuator/prometheus}.
 */
@AutoConfiguration
@ConditionalOnClass({MeterBinder.class, KvmMetrics.class})
@ConditionalOnProperty(prefix = KvmFilterProperties.PREFIX, name = "enabled", matchIfMissing = true)
public class KvmFilterMetricsAutoConfiguration {

    /** Closed with the application context: stops listening and removes the meters. */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public KvmMetrics kvmMetrics() {
        return new KvmMetrics();
    }
}
