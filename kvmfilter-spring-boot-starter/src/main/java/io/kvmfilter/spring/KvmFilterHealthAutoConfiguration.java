package io.kvmfilter.spring;

import io.kvmfilter.filter.KvmFilter;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;

/**
 * The {@code kvmfilter} health indicator ({@link KvmFilterHealthIndicator}), when Spring Boot's health support is
 * present; {@code management.health.kvmfilter.enabled=false} turns it off.
 */
@AutoConfiguration(after = KvmFilterAutoConfiguration.class)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass({KvmFilter.class, HealthIndicator.class})
@ConditionalOnProperty(prefix = KvmFilterProperties.PREFIX, name = "enabled", matchIfMissing = true)
@ConditionalOnEnabledHealthIndicator("kvmfilter")
public class KvmFilterHealthAutoConfiguration {

    /** Finds the filters among all filter registrations, so an application's own registration counts too. */
    @Bean
    @ConditionalOnMissingBean(name = "kvmfilterHealthIndicator")
    public KvmFilterHealthIndicator kvmfilterHealthIndicator(ObjectProvider<FilterRegistrationBean<?>> registrations) {
        return new KvmFilterHealthIndicator(() -> registrations.orderedStream()
                .map(FilterRegistrationBean::getFilter)
                .filter(KvmFilter.class::isInstance)
                .map(KvmFilter.class::cast)
                .toList());
    }
}
