-- Same roles as deploy/stack.sh's local cluster: the app role may create
-- databases (tests do) but is not a superuser.
CREATE ROLE rollcall LOGIN CREATEDB PASSWORD 'rollcall';
CREATE DATABASE rollcall OWNER rollcall;
