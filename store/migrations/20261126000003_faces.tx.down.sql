DROP TABLE IF EXISTS face_images;

--bun:split

DROP TABLE IF EXISTS face_profiles;

--bun:split

DROP TABLE IF EXISTS detection_provider_configs;
