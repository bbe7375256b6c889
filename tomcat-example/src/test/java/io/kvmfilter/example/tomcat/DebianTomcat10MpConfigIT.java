package io.kvmfilter.example.tomcat;

/** Deploys the MicroProfile Config war into a real Tomcat 10.1 from Debian's tomcat10 package. */
class DebianTomcat10MpConfigIT extends WarContract {

    @Override
    Deployment deploy() throws Exception {
        return DebianTomcat.deploy(EmbeddedTomcat.MPCONFIG_WAR, "tomcat10-mpconfig");
    }
}
