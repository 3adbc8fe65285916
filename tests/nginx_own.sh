# shellcheck shell=bash
# nginx_config DIR PORT UPSTREAM: an nginx of a test's or a bench's own
# (never the system's service), everything of it under DIR, listening on
# 127.0.0.1:PORT and proxying to the upstream block's body in UPSTREAM.
nginx_config() { # nginx_config PREFIX PORT UPSTREAM-FILE [ACCESS-LOG]
	local log="access_log off;"
	[ -n "${4:-}" ] && log="log_format gitgate '\$remote_addr - \$remote_user [\$time_local] \"\$request\" \$status \$body_bytes_sent \"\$http_referer\" \"\$http_user_agent\" \$upstream_addr \$msec';
  access_log $4 gitgate;"
	cat <<CONF
daemon on;
pid $1/nginx.pid;
error_log $1/error.log;
worker_processes 1;
events { worker_connections 256; }
http {
  $log
  client_body_temp_path $1/body;
  proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fastcgi;
  uwsgi_temp_path $1/uwsgi;
  scgi_temp_path $1/scgi;
  upstream argo { include $3; }
  server {
    listen 127.0.0.1:$2;
    location / { proxy_pass http://argo; }
  }
}
CONF
}
