package org.slm4j.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Downloads model repositories from a Hugging Face hub into the hub cache, laid out exactly as huggingface_hub lays
 * it out, so what either downloaded the other reuses:
 * <pre>
 * CACHE/models--ORG--NAME/blobs/ETAG                     the file's bytes, named by its ETag (sha256 for LFS files)
 * CACHE/models--ORG--NAME/snapshots/COMMIT/FILE -> ../../blobs/ETAG
 * CACHE/models--ORG--NAME/refs/REVISION                  the commit REVISION pointed at when last pulled
 * </pre>
 * Downloads go to {@code blobs/ETAG.incomplete}, resume from its length with a Range request, are checked (size;
 * sha256 for LFS files) and only then renamed into place; the snapshot link comes last. Only what
 * {@link HfFolder} reads is fetched: configs, tokenizer files and safetensors weights.
 */
public final class HubClient {
    /** The hub huggingface_hub talks to when HF_ENDPOINT is unset. */
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,96}");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern ETAG = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final List<String> WANTED = List.of(HfFolder.CONFIG, HfFolder.GENERATION_CONFIG, "tokenizer.json",
            "tokenizer_config.json", "tokenizer.model", "model.safetensors.index.json");
    private static final long MAX_API_BYTES = 50_000_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path cache;
    private final String endpoint;
    private final String token;
    private final boolean offline;
    private final PrintStream progress;
    private final HttpClient http;

    /**
     * @param cache    the hub cache root (holds models--ORG--NAME folders)
     * @param endpoint the hub's base URL, without a trailing slash
     * @param token    sent as {@code Authorization: Bearer}; null for none
     * @param offline  use the cache only, never the network
     * @param progress where the per-file progress bars go; null for none
     */
    public HubClient(Path cache, String endpoint, String token, boolean offline, PrintStream progress) {
        this.cache = cache;
        this.endpoint = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
        this.token = token == null || token.isBlank() ? null : token.strip();
        this.offline = offline;
        this.progress = progress;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(20)).build(); // redirects: see send
    }

    /**
     * The client huggingface_hub's environment describes: cache $HF_HUB_CACHE, else $HF_HOME/hub, else
     * ~/.cache/huggingface/hub; endpoint $HF_ENDPOINT; token $HF_TOKEN, else the file $HF_HOME/token; offline when
     * {@code offline} or HF_HUB_OFFLINE=1. Progress bars go to stderr.
     */
    public static HubClient fromEnvironment(boolean offline) {
        String home = System.getenv("HF_HOME");
        Path hfHome = home != null && !home.isBlank() ? Path.of(home)
                : Path.of(System.getProperty("user.home"), ".cache", "huggingface");
        String hubCache = System.getenv("HF_HUB_CACHE");
        Path cache = hubCache != null && !hubCache.isBlank() ? Path.of(hubCache) : hfHome.resolve("hub");
        String endpoint = System.getenv("HF_ENDPOINT");
        String token = System.getenv("HF_TOKEN");
        Path tokenFile = hfHome.resolve("token");
        if ((token == null || token.isBlank()) && Files.isRegularFile(tokenFile)) {
            try {
                token = Files.readString(tokenFile);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the hub token " + tokenFile + ": " + e, e);
            }
        }
        String off = System.getenv("HF_HUB_OFFLINE");
        boolean envOffline = off != null && List.of("1", "true", "yes", "on").contains(off.strip().toLowerCase(Locale.ROOT));
        return new HubClient(cache, endpoint == null || endpoint.isBlank() ? DEFAULT_ENDPOINT : endpoint, token,
                offline || envOffline, System.err);
    }

    /** Whether {@code spec} reads as {@code ORG/NAME} or {@code ORG/NAME@REVISION} with valid names. */
    public static boolean isRepoSpec(String spec) {
        int at = spec.indexOf('@');
        String repo = at < 0 ? spec : spec.substring(0, at);
        String[] parts = repo.split("/", -1);
        return parts.length == 2 && validName(parts[0]) && validName(parts[1])
                && (at < 0 || validName(spec.substring(at + 1)));
    }

    /** {@link #snapshot(String, String)} of {@code ORG/NAME[@REVISION]}, revision main by default. */
    public Path snapshot(String spec) {
        if (!isRepoSpec(spec)) {
            throw new IllegalArgumentException("'" + spec + "' is not a repo id ORG/NAME[@REVISION] (letters, digits, '.', '_', '-')");
        }
        int at = spec.indexOf('@');
        return at < 0 ? snapshot(spec, "main") : snapshot(spec.substring(0, at), spec.substring(at + 1));
    }

    /**
     * The snapshot folder of {@code repo} at {@code revision} (a branch, tag or commit), with every file slm4j reads
     * downloaded unless the cache has it already; offline, the folder the cache's refs point at.
     */
    public Path snapshot(String repo, String revision) {
        if (!isRepoSpec(repo) || repo.contains("@") || !validName(revision)) {
            throw new IllegalArgumentException("'" + repo + "@" + revision + "' is not a repo id ORG/NAME with a revision "
                    + "(letters, digits, '.', '_', '-'; no '..')");
        }
        Path repoDir = cache.resolve("models--" + repo.replace("/", "--"));
        return offline ? cached(repo, revision, repoDir) : pull(repo, revision, repoDir);
    }

    private Path cached(String repo, String revision, Path repoDir) {
        String commit = revision;
        Path ref = repoDir.resolve("refs").resolve(revision);
        if (!COMMIT.matcher(revision).matches()) {
            try {
                commit = Files.isRegularFile(ref) ? Files.readString(ref).strip() : null;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + ref + ": " + e, e);
            }
        }
        Path snap = commit == null || !COMMIT.matcher(commit).matches() ? null : repoDir.resolve("snapshots").resolve(commit);
        if (snap == null || !Files.isDirectory(snap)) {
            throw new HubException(repo + "@" + revision + " is not in the hub cache " + cache
                    + " (offline mode: pull it once online first)");
        }
        return snap;
    }

    private Path pull(String repo, String revision, Path repoDir) {
        JsonNode info = json(repo, revision, URI.create(endpoint + "/api/models/" + repo + "/revision/" + encode(revision)));
        String commit = info.path("sha").asText("");
        if (!COMMIT.matcher(commit).matches()) {
            throw new HubException(repo + "@" + revision + ": the hub answered commit '" + commit + "', expected 40 hex digits");
        }
        List<String> files = new ArrayList<>();
        for (JsonNode sibling : info.path("siblings")) {
            String name = sibling.path("rfilename").asText("");
            checkFileName(repo, name);
            if (!name.contains("/") && (WANTED.contains(name) || name.endsWith(".safetensors"))) files.add(name);
        }
        if (!files.contains(HfFolder.CONFIG)) {
            throw new HubException(repo + "@" + revision + ": the repo has no " + HfFolder.CONFIG + " (not a transformers model?)");
        }
        Path snap = repoDir.resolve("snapshots").resolve(commit);
        try {
            List<String> weights = files.stream().filter(f -> f.endsWith(".safetensors")).toList();
            for (String file : files) {
                if (!file.endsWith(".safetensors")) fetchOnce(repo, commit, file, repoDir, snap);
            }
            for (String file : shards(snap, weights)) fetchOnce(repo, commit, file, repoDir, snap);
            if (!revision.equals(commit)) {
                Path ref = repoDir.resolve("refs").resolve(revision);
                Files.createDirectories(ref.getParent());
                Path tmp = Files.createTempFile(ref.getParent(), revision, ".tmp");
                Files.writeString(tmp, commit);
                Files.move(tmp, ref, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the hub cache " + repoDir + ": " + e, e);
        }
        return snap;
    }

    /**
     * The weight files HfFolder will read: the shards the index names, else model.safetensors, else every one (a
     * repo may also carry other copies of the weights, e.g. Mistral's consolidated.safetensors).
     */
    private static List<String> shards(Path snap, List<String> weights) {
        Path index = snap.resolve("model.safetensors.index.json");
        if (Files.exists(index)) {
            JsonNode map = HfFolder.readJson(index, HfFolder.MAX_INDEX_BYTES).path("weight_map");
            java.util.Set<String> named = new java.util.HashSet<>();
            map.forEach(shard -> named.add(shard.asText()));
            return weights.stream().filter(named::contains).toList();
        }
        return weights.contains("model.safetensors") ? List.of("model.safetensors") : weights;
    }

    private void fetchOnce(String repo, String commit, String file, Path repoDir, Path snap) throws IOException {
        Path link = snap.resolve(file);
        if (!Files.exists(link)) download(repo, commit, file, repoDir, link);
    }

    /** One file: HEAD for its ETag and size, the blob (resumed when partial), verified, then the snapshot link. */
    private void download(String repo, String commit, String file, Path repoDir, Path link) throws IOException {
        URI uri = URI.create(endpoint + "/" + repo + "/resolve/" + commit + "/" + encode(file));
        // a HEAD does not follow an LFS file's redirect to its storage: the X-Linked-* headers are on the hub's answer
        HttpResponse<Void> head = send(repo, commit, uri, "HEAD", 0, false, HttpResponse.BodyHandlers.discarding());
        String etag = etag(head.headers().firstValue("X-Linked-Etag").orElse(head.headers().firstValue("ETag").orElse("")));
        if (!ETAG.matcher(etag).matches() || etag.contains("..")) {
            throw new HubException(uri + ": ETag '" + etag + "' cannot name a blob (expected letters, digits, '.', '_', '-')");
        }
        long size = head.headers().firstValueAsLong("X-Linked-Size")
                .orElse(head.statusCode() == 200 ? head.headers().firstValueAsLong("Content-Length").orElse(-1) : -1);
        Path blobs = repoDir.resolve("blobs");
        Path blob = blobs.resolve(etag);
        if (!Files.exists(blob)) {
            Files.createDirectories(blobs);
            Path partial = blobs.resolve(etag + ".incomplete");
            fetch(repo, commit, uri, file, partial, size);
            verify(uri, partial, etag, size);
            Files.move(partial, blob, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.createDirectories(link.getParent());
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, link.getParent().relativize(blob));
    }

    /** The body of {@code uri} into {@code partial}, continuing from what it holds when the server honours Range. */
    private void fetch(String repo, String commit, URI uri, String file, Path partial, long size) throws IOException {
        long have = Files.exists(partial) ? Files.size(partial) : 0;
        if (size >= 0 && have == size) return; // complete but not yet verified: verify() decides
        if (size >= 0 && have > size) {
            Files.delete(partial);
            have = 0;
        }
        HttpResponse<InputStream> r = send(repo, commit, uri, "GET", have, true, HttpResponse.BodyHandlers.ofInputStream());
        boolean resumed = r.statusCode() == 206;
        if (!resumed) have = 0;
        Progress bar = new Progress(file, size, have);
        try (InputStream in = r.body();
             OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     resumed ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
                bar.advance(n);
                if (size >= 0 && bar.done > size) break;
            }
        } catch (IOException e) {
            bar.end();
            throw new HubException("download of " + uri + " broke off after " + bar.done + " bytes (" + e.getMessage()
                    + "); run again to resume from " + partial, e);
        }
        bar.end();
    }

    /** The size must be the announced one and an LFS file's sha256 its ETag; a bad blob is deleted, never kept. */
    private static void verify(URI uri, Path partial, String etag, long size) throws IOException {
        long got = Files.size(partial);
        String problem = null;
        if (size >= 0 && got != size) problem = got + " bytes where the hub announced " + size;
        else if (SHA256.matcher(etag).matches()) {
            String sha = sha256(partial);
            if (!sha.equals(etag)) problem = "sha256 " + sha + " where the hub announced " + etag;
        }
        if (problem != null) {
            Files.delete(partial);
            throw new HubException(uri + ": corrupt download, " + problem + "; the partial file was deleted, run again");
        }
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private JsonNode json(String repo, String revision, URI uri) {
        HttpResponse<InputStream> r = send(repo, revision, uri, "GET", 0, true, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
            byte[] body = in.readNBytes((int) MAX_API_BYTES + 1);
            if (body.length > MAX_API_BYTES) throw new HubException(uri + ": answer longer than " + MAX_API_BYTES + " bytes");
            return JSON.readTree(body);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new HubException(uri + ": the hub's answer is not JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new HubException(uri + ": reading the hub's answer failed: " + e.getMessage(), e);
        }
    }

    /**
     * Sends {@code method} (with a Range from {@code from} bytes when positive), following redirects only when
     * {@code follow}; the token goes to the hub itself, never to the storage a file redirects to.
     */
    private <T> HttpResponse<T> send(String repo, String revision, URI uri, String method, long from, boolean follow,
                                     HttpResponse.BodyHandler<T> body) {
        URI hub = URI.create(endpoint);
        for (int hops = 0; ; hops++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody())
                    .header("Accept-Encoding", "identity").header("User-Agent", "slm4j");
            boolean toHub = java.util.Objects.equals(uri.getScheme(), hub.getScheme())
                    && java.util.Objects.equals(uri.getHost(), hub.getHost()) && uri.getPort() == hub.getPort();
            if (token != null && toHub) b.header("Authorization", "Bearer " + token);
            if (from > 0) b.header("Range", "bytes=" + from + "-");
            // a download may take hours; the API and HEAD answers come at once
            if (method.equals("HEAD") || uri.getPath().contains("/api/models/")) b.timeout(Duration.ofSeconds(60));
            HttpResponse<T> r = check(repo, revision, uri, exchange(b.build(), body));
            var location = r.headers().firstValue("Location");
            if (!follow || r.statusCode() < 300) return r;
            close(r);
            if (location.isEmpty()) throw new HubException(uri + ": HTTP " + r.statusCode() + " without a Location to follow");
            if (hops == 10) throw new HubException(uri + ": more than 10 redirects");
            uri = uri.resolve(location.get());
        }
    }

    private <T> HttpResponse<T> exchange(HttpRequest req, HttpResponse.BodyHandler<T> body) {
        try {
            return http.send(req, body);
        } catch (IOException e) {
            throw new HubException("cannot reach the hub at " + endpoint + " (" + e + "); use --offline or HF_HUB_OFFLINE=1 "
                    + "to use the cache only", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while talking to " + endpoint, new IOException(e));
        }
    }

    private static void close(HttpResponse<?> r) {
        if (r.body() instanceof InputStream in) {
            try {
                in.close();
            } catch (IOException ignored) {
                // the status already says what went wrong
            }
        }
    }

    /** The hub's refusals as messages that say what to do; redirects pass. */
    private <T> HttpResponse<T> check(String repo, String revision, URI uri, HttpResponse<T> r) {
        int code = r.statusCode();
        if (code == 200 || code == 206 || (code >= 300 && code < 400)) return r;
        close(r);
        String where = repo + "@" + revision + " (" + uri + ")";
        throw new HubException(switch (code) {
            case 401, 403 -> where + ": HTTP " + code + ", a gated or private repo: set HF_TOKEN to a token that may read it";
            case 404 -> where + ": HTTP 404, no such repo/revision/file on " + endpoint;
            default -> where + ": the hub answered HTTP " + code;
        });
    }

    /** An ETag header without the weak prefix and quotes. */
    private static String etag(String header) {
        String e = header.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e;
    }

    private static boolean validName(String s) {
        return NAME.matcher(s).matches() && !s.contains("..") && !s.startsWith(".") && !s.startsWith("-");
    }

    /** A repository path from the API must stay inside the snapshot: relative, no '..', no backslash or NUL. */
    private static void checkFileName(String repo, String name) {
        boolean bad = name.isEmpty() || name.startsWith("/") || name.contains("\\") || name.contains("\0") || name.contains(":")
                || name.length() > 1000;
        for (String part : name.split("/", -1)) bad |= part.isEmpty() || part.equals(".") || part.equals("..");
        if (bad) throw new HubException(repo + ": the hub lists the file '" + name.replace("\0", "\\0")
                + "', not a relative path inside the repo");
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** A one-line bar on the progress stream, redrawn at most once per percent. */
    private final class Progress {
        final String file;
        final long size;
        long done;
        int shown = -1;

        Progress(String file, long size, long done) {
            this.file = file;
            this.size = size;
            this.done = done;
            draw();
        }

        void advance(int n) {
            done += n;
            draw();
        }

        void draw() {
            if (progress == null) return;
            int pct = size > 0 ? (int) Math.min(100, done * 100 / size) : 0;
            if (pct == shown) return;
            shown = pct;
            String bar = "=".repeat(pct / 4) + " ".repeat(25 - pct / 4);
            progress.printf("\r%-32s [%s] %3d%% %,d / %,d bytes", file, bar, pct, done, Math.max(size, done));
            progress.flush();
        }

        void end() {
            if (progress != null) progress.println();
        }
    }
}
