#!/usr/bin/env bash
# Publishes the release the way a public repository would receive it, then
# builds tests/consumer/ (a separate application) against it:
#
#   tests/consumer/build.sh DIR
#
#   DIR/repo    `mvn deploy` of the parent, comet4j-native and
#               comet4j-native-javax (jar, pom, -sources, -javadoc, checksums)
#   DIR/m2      a fresh local repository for the application's build, so that
#               comet4j can only come from DIR/repo (never ~/.m2, where the
#               project's own `mvn install` puts it); the rest from Debian's
#   DIR/app     a copy of tests/consumer, built twice:
#               target/push-app.jar (jakarta: comet4j-native, Tomcat 10.1 embed)
#               target-javax/push-app.jar (-Pjavax: comet4j-native-javax, Tomcat 9)
#
# The deploy rebuilds java/ and javax/ without tests (the native library is
# up to date from the build before, so make does nothing).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
rm -rf "$out/repo" "$out/m2" "$out/app"

# maven-deploy-plugin refuses to run offline, and the project's
# .mvn/maven.config says -o: MAVEN_BASEDIR points Maven at an empty folder
# instead (no .mvn/maven.config), and the same settings but -o are given
# here. Every repository is still a file:// one (the root POM's profile
# makes Debian's repository "central"), so nothing goes to a network.
echo "consumer: mvn deploy to $out/repo"
mkdir -p "$out/no-mvn-config"
(cd "$root" && MAVEN_BASEDIR="$out/no-mvn-config" mvn -f "$root/pom.xml" -B -ntp \
  -Daether.offline.protocols=file -Dstyle.color=never -DskipTests -pl java,javax -am deploy \
  -DaltDeploymentRepository="c4j-test::file://$out/repo") > "$out/deploy.log" 2>&1 || {
  tail -60 "$out/deploy.log"; echo "consumer: mvn deploy failed ($out/deploy.log)"; exit 1; }

versions=$(ls "$out/repo/org/comet4j/comet4j-native")
version=$(echo "$versions" | grep -v maven-metadata | head -1)
echo "consumer: deployed org.comet4j:comet4j-native:$version"

cp -r "$root/tests/consumer" "$out/app"
rm -rf "$out/app/target" "$out/app/target-javax"
# Outside the project: no .mvn/maven.config applies, so say offline here.
mvn_app() {
  (cd "$out/app" && mvn -B -o -ntp -Daether.offline.protocols=file -Dstyle.color=never \
    -Dmaven.repo.local="$out/m2" -Dcomet4j.repo="file://$out/repo" -Dcomet4j.version="$version" "$@")
}
for profile in jakarta javax; do
  echo "consumer: mvn -P$profile package in $out/app"
  mvn_app -P"$profile" package > "$out/app-$profile.log" 2>&1 || {
    tail -60 "$out/app-$profile.log"; echo "consumer: the $profile build failed ($out/app-$profile.log)"; exit 1; }
done
echo "consumer: built $out/app/target/push-app.jar and $out/app/target-javax/push-app.jar"
