-- An image's shown result is its latest succeeded job (Sql.IMAGE_SUMMARY). With many jobs per image
-- (reprocessing, load tests) finding it scanned every job of the image: listing 50 images of a
-- database with 51,000 jobs took 743 ms, and 33 ms with this index.
CREATE INDEX jobs_succeeded_by_image ON jobs (image_id, finished_at DESC, job_id) WHERE status = 'succeeded';
