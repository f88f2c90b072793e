package org.slm4j.format;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slm4j.Model;
import org.slm4j.Models;
import org.slm4j.testing.Shared;

/**
 * {@link HubClient} against a fake hub on 127.0.0.1 that speaks huggingface_hub's protocol: the revision API, HEAD
 * with X-Repo-Commit/ETag/X-Linked-Etag/X-Linked-Size, GET with Range. The expected cache layout and hashes are
 * computed here from the served bytes, independently of the client.
 */
class HubClientTest {
    static final String REPO = "acme/tiny-llama", COMMIT = "0123456789abcdef0123456789abcdef01234567";
    static final String WEIGHTS = "model.safetensors";
    static final String OLD_NAME = "acme/old-llama", LOOP = "acme/loop"; // renamed to REPO; redirects to itself

    @TempDir Path cache;
    FakeHub hub;

    @AfterEach
    void stop() {
        if (hub != null) hub.stop();
    }

    /** The fake repo: the tiny-llama fixture folder plus files slm4j must not fetch. */
    static Map<String, byte[]> tinyLlama() throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String f : List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                "tokenizer.model", WEIGHTS)) {
            files.put(f, Files.readAllBytes(Shared.file("fixtures/hf/tiny-llama/" + f)));
        }
        files.put("pytorch_model.bin", new byte[] {1, 2, 3});
        files.put("onnx/model.safetensors", new byte[] {4, 5, 6});
        files.put("consolidated.safetensors", new byte[] {7, 8, 9});
        files.put("README.md", "# tiny".getBytes(StandardCharsets.UTF_8));
        return files;
    }

    HubClient client(boolean offline) {
        return client(null, offline);
    }

    HubClient client(String token, boolean offline) {
        return new HubClient(cache, "http://127.0.0.1:" + hub.port(), token, offline, Progress.NONE, Duration.ofSeconds(20));
    }

    @Test
    void pullWritesHuggingFaceHubCacheLayout() throws Exception {
        hub = new FakeHub(tinyLlama());
        record Update(String task, long done, long total) {}
        List<Update> updates = new ArrayList<>();
        Path snap = new HubClient(cache, "http://127.0.0.1:" + hub.port() + "/", null, false,
                (task, done, total) -> updates.add(new Update(task, done, total)), Duration.ofSeconds(20)).snapshot(REPO);
        Path repoDir = cache.resolve("models--acme--tiny-llama");
        assertEquals(repoDir.resolve("snapshots").resolve(COMMIT), snap);
        assertEquals(COMMIT, Files.readString(repoDir.resolve("refs/main")));
        List<String> pulled = List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                "tokenizer.model", WEIGHTS);
        try (var s = Files.list(snap)) {
            assertEquals(pulled.stream().sorted().toList(), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        for (String f : pulled) {
            Path link = snap.resolve(f);
            assertTrue(Files.isSymbolicLink(link), f);
            Path target = Files.readSymbolicLink(link);
            assertEquals(Path.of("../../blobs/" + FakeHub.etag(f, hub.files.get(f))), target, f + " links relatively to its blob");
            assertArrayEquals(hub.files.get(f), Files.readAllBytes(link), f);
        }
        assertEquals(sha256(hub.files.get(WEIGHTS)), FakeHub.etag(WEIGHTS, hub.files.get(WEIGHTS)), "LFS blobs are named by sha256");
        try (var s = Files.list(repoDir.resolve("blobs"))) {
            assertEquals(pulled.size(), s.count(), "one blob per file, no .incomplete left");
        }
        for (String f : pulled) {
            long size = hub.files.get(f).length;
            List<Update> mine = updates.stream().filter(u -> u.task.equals(f)).toList();
            assertEquals(new Update(f, size, size), mine.getLast(), f + " ends at its size");
            for (int i = 0; i < mine.size(); i++) {
                assertEquals(size, mine.get(i).total, f);
                assertTrue(i == 0 || mine.get(i).done >= mine.get(i - 1).done, f + " never goes back: " + mine);
            }
        }
        assertTrue(updates.stream().filter(u -> u.task.equals(WEIGHTS)).count() > 2, "the weights report as they come");
        assertTrue(Files.isRegularFile(cache.resolve(".locks/models--acme--tiny-llama/" + FakeHub.etag(WEIGHTS, hub.files.get(WEIGHTS))
                + ".lock")), "huggingface_hub's lock file");
    }

    @Test
    void shardedRepoGetsTheShardsItsIndexNames() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", "{}".getBytes(StandardCharsets.UTF_8));
        files.put("model.safetensors.index.json", ("{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                + "\"b\":\"model-00002-of-00002.safetensors\",\"c\":\"model-00001-of-00002.safetensors\"}}").getBytes(StandardCharsets.UTF_8));
        files.put("model-00001-of-00002.safetensors", new byte[] {1});
        files.put("model-00002-of-00002.safetensors", new byte[] {2, 2});
        files.put("consolidated.safetensors", new byte[] {3, 3, 3});
        hub = new FakeHub(files);
        Path snap = client(false).snapshot(REPO);
        try (var s = Files.list(snap)) {
            assertEquals(List.of("config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                    "model.safetensors.index.json"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertArrayEquals(new byte[] {2, 2}, Files.readAllBytes(snap.resolve("model-00002-of-00002.safetensors")));
    }

    @Test
    void secondPullDownloadsNothing() throws Exception {
        hub = new FakeHub(tinyLlama());
        Path first = client(false).snapshot(REPO + "@main");
        hub.requests.clear();
        assertEquals(first, client(false).snapshot(REPO));
        assertEquals(List.of("GET /api/models/acme/tiny-llama/revision/main"), hub.requests.stream().map(r -> r.line).toList());
    }

    @Test
    void brokenDownloadResumesWithRange() throws Exception {
        hub = new FakeHub(tinyLlama());
        hub.cutAfter = hub.files.get(WEIGHTS).length / 2;
        HubException e = assertThrows(HubException.class, () -> client(false).snapshot(REPO));
        assertTrue(e.getMessage().contains("broke off") && e.getMessage().contains(WEIGHTS) && e.getMessage().contains("resume"),
                e.getMessage());
        String etag = FakeHub.etag(WEIGHTS, hub.files.get(WEIGHTS));
        Path blobs = cache.resolve("models--acme--tiny-llama/blobs");
        long partial = Files.size(blobs.resolve(etag + ".incomplete"));
        assertTrue(partial > 0 && partial <= hub.cutAfter, "partial " + partial);
        assertFalse(Files.exists(blobs.resolve(etag)), "no complete-looking blob");

        hub.cutAfter = -1;
        hub.requests.clear();
        Path snap = client(false).snapshot(REPO);
        assertTrue(hub.requests.stream().anyMatch(r -> r.line.startsWith("GET ") && r.line.endsWith(WEIGHTS)
                && ("bytes=" + partial + "-").equals(r.range)), hub.requests.toString());
        assertEquals(sha256(hub.files.get(WEIGHTS)), sha256(Files.readAllBytes(snap.resolve(WEIGHTS))));
        assertFalse(Files.exists(blobs.resolve(etag + ".incomplete")));
    }

    @Test
    void downloadThatEndsShortIsKeptAndResumed() throws Exception {
        hub = new FakeHub(tinyLlama());
        hub.endAfter = hub.files.get(WEIGHTS).length / 3;
        HubException e = assertThrows(HubException.class, () -> client(false).snapshot(REPO));
        assertTrue(e.getMessage().contains("ended after " + hub.endAfter) && e.getMessage().contains("resume"), e.getMessage());
        String etag = FakeHub.etag(WEIGHTS, hub.files.get(WEIGHTS));
        Path blobs = cache.resolve("models--acme--tiny-llama/blobs");
        assertEquals(hub.endAfter, Files.size(blobs.resolve(etag + ".incomplete")), "the bytes that came are kept");

        hub.endAfter = -1;
        hub.requests.clear();
        Path snap = client(false).snapshot(REPO);
        assertTrue(hub.requests.stream().anyMatch(r -> ("bytes=" + hub.files.get(WEIGHTS).length / 3 + "-").equals(r.range)),
                hub.requests.toString());
        assertEquals(sha256(hub.files.get(WEIGHTS)), sha256(Files.readAllBytes(snap.resolve(WEIGHTS))));
    }

    @Test
    void corruptDownloadIsRefusedAndDeleted() throws Exception {
        hub = new FakeHub(tinyLlama());
        hub.corrupt = true;
        HubException e = assertThrows(HubException.class, () -> client(false).snapshot(REPO));
        assertTrue(e.getMessage().contains("corrupt download") && e.getMessage().contains("sha256"), e.getMessage());
        String etag = FakeHub.etag(WEIGHTS, hub.files.get(WEIGHTS));
        Path repoDir = cache.resolve("models--acme--tiny-llama");
        assertFalse(Files.exists(repoDir.resolve("blobs").resolve(etag)));
        assertFalse(Files.exists(repoDir.resolve("blobs").resolve(etag + ".incomplete")));
        assertFalse(Files.exists(repoDir.resolve("snapshots").resolve(COMMIT).resolve(WEIGHTS), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(repoDir.resolve("refs/main")), "no ref to a snapshot that is not complete");
    }

    @Test
    void gatedRepoAsksForTokenAndTheTokenIsSent() throws Exception {
        hub = new FakeHub(tinyLlama());
        hub.token = "hf_secret";
        HubException e = assertThrows(HubException.class, () -> client(false).snapshot(REPO));
        assertTrue(e.getMessage().contains("HF_TOKEN") && e.getMessage().contains("401"), e.getMessage());
        hub.requests.clear();
        Path snap = client("hf_secret\n", false).snapshot(REPO);
        assertTrue(Files.isRegularFile(snap.resolve(WEIGHTS)));
        assertFalse(hub.requests.isEmpty());
        for (FakeHub.Request r : hub.requests) {
            assertEquals(r.line.contains("/cdn/") ? null : "Bearer hf_secret", r.auth, r.line + ": the token goes to the hub only");
        }
        assertTrue(hub.requests.stream().anyMatch(r -> r.line.equals("GET /cdn/" + WEIGHTS)), "the LFS redirect was followed");
    }

    @Test
    void offlineUsesTheCacheOnly() throws Exception {
        hub = new FakeHub(tinyLlama());
        HubException e = assertThrows(HubException.class, () -> client(true).snapshot(REPO));
        assertTrue(e.getMessage().contains("not in the hub cache"), e.getMessage());
        Path snap = client(false).snapshot(REPO);
        hub.requests.clear();
        assertEquals(snap, client(true).snapshot(REPO));
        assertEquals(snap, client(true).snapshot(REPO + "@" + COMMIT));
        assertTrue(hub.requests.isEmpty(), hub.requests.toString());
        assertThrows(HubException.class, () -> client(true).snapshot(REPO + "@v2"));
    }

    @Test
    void unreachableHubSaysSo() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        HubClient c = new HubClient(cache, "http://127.0.0.1:" + closed, null, false, Progress.NONE, Duration.ofSeconds(20));
        HubException e = assertThrows(HubException.class, () -> c.snapshot(REPO));
        assertTrue(e.getMessage().contains("cannot reach the hub at http://127.0.0.1:" + closed)
                && e.getMessage().contains("--offline"), e.getMessage());
    }

    @Test
    void missingRepoAndHostileNamesAreRefused() throws Exception {
        hub = new FakeHub(tinyLlama());
        HubException e = assertThrows(HubException.class, () -> client(false).snapshot("acme/nothing"));
        assertTrue(e.getMessage().contains("no such repo"), e.getMessage());
        for (String bad : List.of("../evil.safetensors", "/etc/evil.safetensors", "a\\b.safetensors", "x/../../y.json")) {
            hub.files.put(bad, new byte[] {1});
            assertThrows(HubException.class, () -> client(false).snapshot(REPO), bad);
            hub.files.remove(bad);
        }
        assertFalse(Files.exists(cache.resolve("models--acme--tiny-llama/blobs")), "nothing written before the names are checked");
        for (String spec : List.of("acme", "acme/x/y", "../x", "acme/..", "acme/x@..", "acme/x@a/b", "acme/x y", "/acme/x")) {
            assertFalse(HubClient.isRepoSpec(spec), spec);
            assertThrows(IllegalArgumentException.class, () -> client(false).snapshot(spec), spec);
        }
        assertTrue(HubClient.isRepoSpec("TinyLlama/TinyLlama-1.1B-Chat-v1.0@main"));
    }

    @Test
    void concurrentPullsTakeTurnsOnEachBlob() throws Exception {
        hub = new FakeHub(tinyLlama());
        hub.slow = true;
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService two = Executors.newFixedThreadPool(2);
        try {
            List<Future<Path>> pulls = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                pulls.add(two.submit(() -> {
                    go.await();
                    return client(false).snapshot(REPO);
                }));
            }
            go.countDown();
            Path snap = pulls.get(0).get(60, TimeUnit.SECONDS);
            assertEquals(snap, pulls.get(1).get(60, TimeUnit.SECONDS));
            for (String f : List.of("config.json", "tokenizer.json", WEIGHTS)) {
                assertArrayEquals(hub.files.get(f), Files.readAllBytes(snap.resolve(f)), f);
            }
        } finally {
            two.shutdownNow();
        }
        assertEquals(1, hub.count("GET /cdn/" + WEIGHTS), "the second pull waited and found the blob: " + hub.requests);
        for (String f : List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.model")) {
            assertEquals(1, hub.count("GET /" + REPO + "/resolve/" + COMMIT + "/" + f), f);
        }
        try (var s = Files.list(cache.resolve("models--acme--tiny-llama/blobs"))) {
            assertEquals(List.of(), s.filter(p -> p.toString().endsWith(".incomplete")).toList());
        }
    }

    /** Another process (huggingface_hub, another slm4j) writing the blob holds its lock: the pull waits, then uses it. */
    @Test
    void pullWaitsForTheLockAnotherWriterHolds() throws Exception {
        hub = new FakeHub(tinyLlama());
        byte[] weights = hub.files.get(WEIGHTS);
        String etag = FakeHub.etag(WEIGHTS, weights);
        Path lockFile = cache.resolve(".locks/models--acme--tiny-llama/" + etag + ".lock");
        Files.createDirectories(lockFile.getParent());
        CompletableFuture<Path> pull;
        try (FileChannel held = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             var lock = held.lock()) {
            pull = CompletableFuture.supplyAsync(() -> client(false).snapshot(REPO));
            String head = "HEAD /" + REPO + "/resolve/" + COMMIT + "/" + WEIGHTS;
            for (long end = System.nanoTime() + 20_000_000_000L; hub.count(head) == 0 && System.nanoTime() < end; ) Thread.sleep(10);
            Thread.sleep(300);
            assertFalse(pull.isDone(), "the pull waits for the lock");
            assertEquals(0, hub.count("GET /cdn/" + WEIGHTS));
            Path blobs = cache.resolve("models--acme--tiny-llama/blobs");
            Path tmp = Files.write(blobs.resolve(etag + ".other"), weights);
            Files.move(tmp, blobs.resolve(etag), StandardCopyOption.ATOMIC_MOVE);
        }
        Path snap = pull.get(30, TimeUnit.SECONDS);
        assertArrayEquals(weights, Files.readAllBytes(snap.resolve(WEIGHTS)));
        assertEquals(0, hub.count("GET /cdn/" + WEIGHTS), "the blob the other writer finished is used");
    }

    /** Python's huggingface_hub locks with flock(2), as the flock command does; on Linux an fcntl lock does not see it. */
    @Test
    void pullWaitsForAFlockHolderAsHuggingfaceHubTakesIt() throws Exception {
        assumeTrue(System.getProperty("os.name").equals("Linux") && Files.isExecutable(Path.of("/usr/bin/flock")), "Linux with flock(1)");
        hub = new FakeHub(tinyLlama());
        byte[] weights = hub.files.get(WEIGHTS);
        String etag = FakeHub.etag(WEIGHTS, weights);
        Path lockFile = cache.resolve(".locks/models--acme--tiny-llama/" + etag + ".lock");
        Files.createDirectories(lockFile.getParent());
        Process python = new ProcessBuilder("/usr/bin/flock", lockFile.toString(), "sh", "-c", "echo locked; cat").start();
        try {
            assertEquals("locked", python.inputReader().readLine());
            CompletableFuture<Path> pull = CompletableFuture.supplyAsync(() -> client(false).snapshot(REPO));
            String head = "HEAD /" + REPO + "/resolve/" + COMMIT + "/" + WEIGHTS;
            for (long end = System.nanoTime() + 20_000_000_000L; hub.count(head) == 0 && System.nanoTime() < end; ) Thread.sleep(10);
            Thread.sleep(300);
            assertFalse(pull.isDone(), "the pull waits for the flock");
            Path blobs = cache.resolve("models--acme--tiny-llama/blobs");
            Files.move(Files.write(blobs.resolve(etag + ".other"), weights), blobs.resolve(etag), StandardCopyOption.ATOMIC_MOVE);
            python.getOutputStream().close(); // cat ends, flock releases
            assertArrayEquals(weights, Files.readAllBytes(pull.get(30, TimeUnit.SECONDS).resolve(WEIGHTS)));
            assertEquals(0, hub.count("GET /cdn/" + WEIGHTS), "the blob the other writer finished is used");
        } finally {
            python.destroy();
        }
    }

    @Test
    void stalledDownloadEndsAndResumes() throws Exception {
        hub = new FakeHub(tinyLlama());
        int half = hub.files.get(WEIGHTS).length / 2;
        hub.stallAfter = half;
        HubClient c = new HubClient(cache, "http://127.0.0.1:" + hub.port(), null, false, Progress.NONE, Duration.ofSeconds(1));
        HubException e = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThrows(HubException.class, () -> c.snapshot(REPO)));
        assertTrue(e.getMessage().contains(WEIGHTS) && e.getMessage().contains("stalled") && e.getMessage().contains("resume")
                && e.getMessage().contains("HF_HUB_DOWNLOAD_TIMEOUT"), e.getMessage());
        Path blobs = cache.resolve("models--acme--tiny-llama/blobs");
        String etag = FakeHub.etag(WEIGHTS, hub.files.get(WEIGHTS));
        assertEquals(half, Files.size(blobs.resolve(etag + ".incomplete")), "what came is kept for resuming");
        assertFalse(Files.exists(blobs.resolve(etag)));

        hub.stallAfter = -1;
        hub.requests.clear();
        Path snap = c.snapshot(REPO);
        assertEquals(List.of("bytes=" + half + "-"), hub.requests.stream().filter(r -> r.line.equals("GET /cdn/" + WEIGHTS))
                .map(r -> r.range).toList());
        assertArrayEquals(hub.files.get(WEIGHTS), Files.readAllBytes(snap.resolve(WEIGHTS)));
    }

    /** A full disk (the partial file leads to /dev/full) leaves the partial file and says so, never a complete-looking blob. */
    @Test
    void fullDiskSaysSoAndLeavesNoBlob() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/full")), "a /dev/full device");
        hub = new FakeHub(tinyLlama());
        String etag = FakeHub.etag(WEIGHTS, hub.files.get(WEIGHTS));
        Path blobs = Files.createDirectories(cache.resolve("models--acme--tiny-llama/blobs"));
        Files.createSymbolicLink(blobs.resolve(etag + ".incomplete"), Path.of("/dev/full"));
        HubException e = assertThrows(HubException.class, () -> client(false).snapshot(REPO));
        assertTrue(e.getMessage().contains(WEIGHTS) && e.getMessage().contains("free some space")
                && e.getMessage().contains("resume"), e.getMessage());
        assertFalse(Files.exists(blobs.resolve(etag), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(cache.resolve("models--acme--tiny-llama/snapshots").resolve(COMMIT).resolve(WEIGHTS),
                java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void hubThatNeverAnswersTimesOut() throws Exception {
        hub = new FakeHub(tinyLlama());
        hub.stallAnswers = true;
        HubClient c = new HubClient(cache, "http://127.0.0.1:" + hub.port(), null, false, Progress.NONE, Duration.ofSeconds(1));
        HubException e = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThrows(HubException.class, () -> c.snapshot(REPO)));
        assertTrue(e.getMessage().contains("no answer within 1 s") && e.getMessage().contains("HF_HUB_DOWNLOAD_TIMEOUT"), e.getMessage());
    }

    @Test
    void downloadTimeoutFromTheEnvironmentReadsSeconds() {
        assertEquals(HubClient.DEFAULT_TIMEOUT, HubClient.timeout(null));
        assertEquals(HubClient.DEFAULT_TIMEOUT, HubClient.timeout(" "));
        assertEquals(Duration.ofSeconds(10), HubClient.timeout("10"));
        assertEquals(Duration.ofMillis(2500), HubClient.timeout(" 2.5 "));
        for (String bad : List.of("0", "-3", "ten", "1e9", "NaN")) {
            var e = assertThrows(IllegalArgumentException.class, () -> HubClient.timeout(bad), bad);
            assertTrue(e.getMessage().contains("HF_HUB_DOWNLOAD_TIMEOUT='" + bad + "'"), e.getMessage());
        }
    }

    @Test
    void corruptNonLfsFileIsRefusedByItsGitBlobSha1() throws Exception {
        hub = new FakeHub(tinyLlama());
        hub.corruptFile = "tokenizer.json";
        HubException e = assertThrows(HubException.class, () -> client(false).snapshot(REPO));
        assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("corrupt download")
                && e.getMessage().contains("sha1"), e.getMessage());
        Path repoDir = cache.resolve("models--acme--tiny-llama");
        String etag = FakeHub.etag("tokenizer.json", hub.files.get("tokenizer.json"));
        assertFalse(Files.exists(repoDir.resolve("blobs").resolve(etag)));
        assertFalse(Files.exists(repoDir.resolve("blobs").resolve(etag + ".incomplete")));
        assertFalse(Files.exists(repoDir.resolve("snapshots").resolve(COMMIT).resolve("tokenizer.json"),
                java.nio.file.LinkOption.NOFOLLOW_LINKS));
        hub.corruptFile = null;
        assertArrayEquals(hub.files.get("tokenizer.json"), Files.readAllBytes(client(false).snapshot(REPO).resolve("tokenizer.json")));
    }

    @Test
    void renamedRepoIsFollowedAndTheTokenStaysOnTheHub() throws Exception {
        hub = new FakeHub(tinyLlama());
        hub.token = "hf_secret";
        Path snap = client("hf_secret", false).snapshot(OLD_NAME);
        assertEquals(cache.resolve("models--acme--old-llama/snapshots").resolve(COMMIT), snap, "cached under the name asked for");
        for (String f : List.of("config.json", "tokenizer.json", WEIGHTS)) {
            assertArrayEquals(hub.files.get(f), Files.readAllBytes(snap.resolve(f)), f);
        }
        assertEquals(1, hub.count("GET /api/models/" + REPO + "/revision/main"), "relative Location: " + hub.requests);
        assertEquals(1, hub.count("HEAD /" + REPO + "/resolve/" + COMMIT + "/config.json"), "absolute Location on the hub");
        assertEquals(1, hub.count("GET /cdn/" + WEIGHTS));
        for (FakeHub.Request r : hub.requests) {
            assertEquals(r.line.contains("/cdn/") ? null : "Bearer hf_secret", r.auth, r.line + ": the token goes to the hub only");
        }
        HubException e = assertThrows(HubException.class, () -> client("hf_secret", false).snapshot(LOOP));
        assertTrue(e.getMessage().contains("more than 10 redirects"), e.getMessage());
        assertEquals(11, hub.count("GET /api/models/" + LOOP + "/revision/main"));
    }

    @Test
    void pulledTinyLlamaGivesLlamaCppLogits() throws Exception {
        hub = new FakeHub(tinyLlama());
        JsonNode ref = new ObjectMapper().readTree(Shared.file("fixtures/llamacpp/tiny-llama-f32.json").toFile());
        int[] tokens = new int[ref.get("tokens").size()];
        for (int i = 0; i < tokens.length; i++) tokens[i] = ref.get("tokens").get(i).asInt();
        try (Model model = Models.open(client(false).snapshot(REPO))) {
            float[][] logits = model.logits(tokens);
            double max = 0;
            for (int p = 0; p < tokens.length; p++) {
                for (int v = 0; v < logits[p].length; v++) {
                    max = Math.max(max, Math.abs(logits[p][v] - ref.get("logits").get(p).get(v).asDouble()));
                }
            }
            assertTrue(max < 1e-4, "max |diff| from llama.cpp " + max);
        }
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** A hub with one repo at one commit; every request is recorded. */
    static final class FakeHub {
        record Request(String line, String range, String auth) {}

        final HttpServer server, cdn;  // the hub redirects LFS downloads to its storage, another host
        final Map<String, byte[]> files;
        final List<Request> requests = new CopyOnWriteArrayList<>();
        final ExecutorService threads = Executors.newCachedThreadPool(); // concurrent clients are served concurrently
        final CountDownLatch unstall = new CountDownLatch(1);
        volatile String token;
        volatile int cutAfter = -1, stallAfter = -1, endAfter = -1;
        volatile boolean corrupt, slow, stallAnswers;
        volatile String corruptFile;

        FakeHub(Map<String, byte[]> files) throws IOException {
            this.files = files;
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/", this::handle);
            server.setExecutor(threads);
            server.start();
            cdn = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            cdn.createContext("/", this::handle);
            cdn.setExecutor(threads);
            cdn.start();
        }

        void stop() {
            unstall.countDown();
            server.stop(0);
            cdn.stop(0);
            threads.shutdownNow();
        }

        long count(String requestLine) {
            return requests.stream().filter(r -> r.line.equals(requestLine)).count();
        }

        /** Holds a stalled answer until the test ends it; the client must have given up long before. */
        void stall() {
            try {
                unstall.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        int port() {
            return server.getAddress().getPort();
        }

        /** sha256 for LFS files (the weights), the git blob sha1 for the rest, as the hub names them. */
        static String etag(String name, byte[] b) {
            try {
                if (name.endsWith(".safetensors")) return sha256(b);
                MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
                sha1.update(("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII));
                return HexFormat.of().formatHex(sha1.digest(b));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        void handle(HttpExchange x) throws IOException {
            String path = x.getRequestURI().getRawPath();
            requests.add(new Request(x.getRequestMethod() + " " + path, x.getRequestHeaders().getFirst("Range"),
                    x.getRequestHeaders().getFirst("Authorization")));
            try (x) {
                if (path.startsWith("/cdn/")) {
                    body(x, path.substring(5));
                } else if (token != null && !("Bearer " + token).equals(x.getRequestHeaders().getFirst("Authorization"))) {
                    x.sendResponseHeaders(401, -1);
                } else if (stallAnswers) {
                    stall();
                } else if (path.startsWith("/api/models/" + OLD_NAME + "/")) { // a renamed repo: relative Location
                    x.getResponseHeaders().set("Location", path.replace(OLD_NAME, REPO));
                    x.sendResponseHeaders(307, -1);
                } else if (path.startsWith("/" + OLD_NAME + "/")) { // absolute, on the same host
                    x.getResponseHeaders().set("Location", "http://127.0.0.1:" + port() + path.replace(OLD_NAME, REPO));
                    x.sendResponseHeaders(307, -1);
                } else if (path.startsWith("/api/models/" + LOOP + "/")) {
                    x.getResponseHeaders().set("Location", path);
                    x.sendResponseHeaders(307, -1);
                } else if (path.startsWith("/api/models/" + REPO + "/revision/")) {
                    StringBuilder json = new StringBuilder("{\"id\":\"" + REPO + "\",\"sha\":\"" + COMMIT + "\",\"siblings\":[");
                    int i = 0;
                    for (String f : files.keySet()) {
                        json.append(i++ > 0 ? "," : "").append("{\"rfilename\":\"").append(f.replace("\\", "\\\\")).append("\"}");
                    }
                    byte[] body = json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
                    x.sendResponseHeaders(200, body.length);
                    x.getResponseBody().write(body);
                } else if (path.startsWith("/" + REPO + "/resolve/" + COMMIT + "/")) {
                    file(x, path.substring(("/" + REPO + "/resolve/" + COMMIT + "/").length()));
                } else {
                    x.sendResponseHeaders(404, -1);
                }
            }
        }

        void file(HttpExchange x, String name) throws IOException {
            byte[] b = files.get(name);
            if (b == null) {
                x.sendResponseHeaders(404, -1);
                return;
            }
            var h = x.getResponseHeaders();
            h.set("X-Repo-Commit", COMMIT);
            String etag = etag(name, b);
            if (name.endsWith(".safetensors")) {
                h.set("ETag", "\"" + sha256(etag.getBytes(StandardCharsets.US_ASCII)) + "\"");  // the storage's own, not the content's
                h.set("X-Linked-Etag", "\"" + etag + "\"");
                h.set("X-Linked-Size", Long.toString(b.length));
            } else {
                h.set("ETag", "W/\"" + etag + "\"");
            }
            if (name.endsWith(".safetensors")) {
                h.set("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/cdn/" + name);
                x.sendResponseHeaders(302, -1);
            } else if (x.getRequestMethod().equals("HEAD")) {
                h.set("Content-Length", Long.toString(b.length));
                x.sendResponseHeaders(200, -1);
            } else {
                byte[] body = b.clone();
                if (name.equals(corruptFile)) body[body.length / 2] ^= 1; // same size, other content
                x.sendResponseHeaders(200, body.length);
                x.getResponseBody().write(body);
            }
        }

        /** The storage: LFS bytes with Range, broken off or corrupted on request. */
        void body(HttpExchange x, String name) throws IOException {
            byte[] b = files.get(name);
            var h = x.getResponseHeaders();
            int from = 0;
            String range = x.getRequestHeaders().getFirst("Range");
            if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
                from = Integer.parseInt(range.substring(6, range.length() - 1));
                h.set("Content-Range", "bytes " + from + "-" + (b.length - 1) + "/" + b.length);
            }
            byte[] body = java.util.Arrays.copyOfRange(b, from, b.length);
            if (corrupt && name.endsWith(".safetensors")) body[body.length / 2] ^= 1;
            if (endAfter >= 0 && name.endsWith(".safetensors")) body = java.util.Arrays.copyOf(body, endAfter); // a clean, short answer
            x.sendResponseHeaders(from > 0 ? 206 : 200, body.length);
            OutputStream out = x.getResponseBody();
            if (cutAfter >= 0 && name.endsWith(".safetensors")) {
                out.write(body, 0, cutAfter);
                out.flush();
                throw new IOException("the fake hub breaks the connection after " + cutAfter + " bytes");
            }
            if (stallAfter >= 0 && name.endsWith(".safetensors")) {
                out.write(body, 0, stallAfter);
                out.flush();
                stall();
                throw new IOException("the fake hub gave up its stalled answer");
            }
            if (slow) { // 16 pieces over about 400 ms: long enough for a concurrent pull to arrive meanwhile
                for (int i = 0; i < 16; i++) {
                    out.write(body, i * body.length / 16, (i + 1) * body.length / 16 - i * body.length / 16);
                    out.flush();
                    try {
                        Thread.sleep(25);
                    } catch (InterruptedException e) {
                        throw new IOException(e);
                    }
                }
                return;
            }
            out.write(body);
        }

        static String sha256(byte[] b) {
            try {
                return HubClientTest.sha256(b);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
