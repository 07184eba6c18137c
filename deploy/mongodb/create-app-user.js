// Creates the Ruta services' MongoDB user on the first start of an empty data volume (the official
// image runs /docker-entrypoint-initdb.d/*.js once, authenticated as the root user). The user can
// read and write the services' databases but administers nothing (no users, roles or cluster).
const fs = require("fs");

const username = process.env.RUTA_MONGO_USERNAME || "ruta";
const password = fs.readFileSync("/run/secrets/mongo_app_password", "utf8").trim();
if (password.length < 16) {
  throw new Error("mongo_app_password must have at least 16 characters");
}

db.getSiblingDB("admin").createUser({
  user: username,
  pwd: password,
  roles: [{ role: "readWriteAnyDatabase", db: "admin" }],
});
print(`created MongoDB user ${username}`);
